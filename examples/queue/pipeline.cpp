// The seeds' download -> resize -> upload pipeline (§55): 1,000 items through three stages of
// worker threads connected by queues.
//
// Python needed ClosableQueue (a sentinel + __iter__) and StoppableWorker; with 3.13's
// Queue.shutdown() and the queue's iteration, each stage is one loop (see stage.hpp), and the
// main thread just puts the items and shuts the first queue down.
//
//   queue_pipeline [items=1000] [workers_per_stage=1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "concur/queue.hpp"
#include "stage.hpp"

namespace {

struct Image {
  int id;
  std::string data;
};

Image download(int id) {
  std::this_thread::sleep_for(std::chrono::microseconds(10));  // stands in for network I/O
  return {id, std::string(64, 'x')};
}
Image resize(Image image) {
  image.data.resize(image.data.size() / 2);
  return image;
}
int upload(Image image) {
  std::this_thread::sleep_for(std::chrono::microseconds(10));
  return image.id;
}

}  // namespace

int main(int argc, char** argv) {
  const int items = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 1;
  using concur::queue::Queue;

  Queue<int> download_queue;
  Queue<Image> resize_queue, upload_queue;
  Queue<int> done_queue;
  Stage downloader(download_queue, resize_queue, download, workers);
  Stage resizer(resize_queue, upload_queue, resize, workers);
  Stage uploader(upload_queue, done_queue, upload, workers);

  for (int i = 0; i < items; ++i) download_queue.put(i);
  download_queue.shutdown();  // no more input: each stage drains, then closes the next
  uploader.join();            // the last stage is done once every earlier one is

  std::printf("%zu items done\n", done_queue.qsize());
  return done_queue.qsize() == static_cast<std::size_t>(items) ? 0 : 1;
}
