// Anchors the exception types' vtables in the library.
#include "concur/error.hpp"
