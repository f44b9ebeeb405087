// The download -> resize -> upload pipeline (§55) where one stage throws: the exception reaches
// the main thread, no thread hangs, and every one of the 1,000 items is accounted for — done,
// failed, left unprocessed by a stopped stage, or never submitted because the pipeline stopped.
//
// In Python the seeds forward exceptions by hand through the queues (§58, game_logic_thread);
// here a failing stage shuts its input queue down (upstream put() raises queue::ShutDown, so the
// stop travels back to the producer) and its output queue (downstream drains and finishes).
//
//   queue_pipeline_error [items=1000] [failing_item=500] [workers_per_stage=2]
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "concur/queue.hpp"
#include "stage.hpp"

namespace {

struct Image {
  int id;
  std::string data;
};

int failing_item = 500;

Image download(int id) { return {id, std::string(64, 'x')}; }
Image resize(Image image) {
  if (image.id == failing_item) throw std::runtime_error("corrupt image #" + std::to_string(image.id));
  image.data.resize(image.data.size() / 2);
  return image;
}
int upload(Image image) { return image.id; }

}  // namespace

int main(int argc, char** argv) {
  const int items = argc > 1 ? std::atoi(argv[1]) : 1000;
  failing_item = argc > 2 ? std::atoi(argv[2]) : 500;
  const int workers = argc > 3 ? std::atoi(argv[3]) : 2;
  using concur::queue::Queue;

  Queue<int> download_queue(16);  // bounded, so the producer really is stopped mid-way
  Queue<Image> resize_queue(16), upload_queue(16);
  Queue<int> done_queue;
  Stage downloader(download_queue, resize_queue, download, workers);
  Stage resizer(resize_queue, upload_queue, resize, workers);
  Stage uploader(upload_queue, done_queue, upload, workers);

  int submitted = 0;
  try {
    for (; submitted < items; ++submitted) download_queue.put(submitted);
  } catch (const concur::queue::ShutDown&) {
    std::printf("producer: pipeline stopped after %d items were submitted\n", submitted);
  }
  download_queue.shutdown();
  downloader.join();
  resizer.join();
  uploader.join();

  const long done = static_cast<long>(done_queue.qsize());
  const long failed = resizer.error() ? 1 : 0;
  const long unprocessed = downloader.unprocessed() + resizer.unprocessed() + uploader.unprocessed();
  const long never_submitted = items - submitted;
  std::printf("done %ld + failed %ld + unprocessed %ld + never submitted %ld = %ld of %d\n", done, failed,
              unprocessed, never_submitted, done + failed + unprocessed + never_submitted, items);
  try {
    if (auto e = resizer.error()) std::rethrow_exception(e);
  } catch (const std::exception& e) {
    std::printf("main thread caught: %s\n", e.what());
    const bool expected = failing_item < items;
    return expected && done + failed + unprocessed + never_submitted == items ? 0 : 1;
  }
  return failing_item >= items && done == items ? 0 : 1;
}
