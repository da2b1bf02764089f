// The heap trace of the integration clients (tls_client --trace, dtls_client --trace): every calloc and free of the
// glue's heap, with the handshake state mbedTLS was in (a private field, read through `state`: -1 outside a
// session), written at the end as CSV "op,size,id,state" (the shared traces' format, tests/data/alloc-traces): the
// heap-model calibration (bench/heap, tools/sweep/runner.py --calibrate) splits a session's peak by phase with it.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tlsgen/glue.hpp"

namespace tlsgen_test {

class HeapTrace {
 public:
  using StateFn = int (*)();

  // Starts recording (nothing when `file` is empty). One trace per process: the heap's observer is a plain
  // function.
  void start(const std::string& file, StateFn state) {
    file_ = file;
    if (file_.empty()) return;
    state_ = state;
    instance() = this;
    events_.reserve(1 << 16);
    tlsgen::glue::heap().set_observer(
        [](void*, const void* pointer, std::size_t request, std::size_t) {
          HeapTrace* t = instance();
          t->events_.push_back({pointer, request, t->state_()});
        },
        nullptr);
  }

  // Stops recording and writes the file.
  void finish() {
    if (file_.empty()) return;
    tlsgen::glue::heap().set_observer(nullptr, nullptr);
    instance() = nullptr;
    std::ofstream out(file_);
    out << "op,size,id,state\n";
    std::vector<std::pair<const void*, std::pair<std::size_t, int>>> live;  // pointer -> (size, id)
    int next_id = 0;
    for (const Event& e : events_) {
      if (e.request != 0) {
        live.push_back({e.pointer, {e.request, ++next_id}});
        out << "a," << e.request << ',' << next_id << ',' << e.state << '\n';
        continue;
      }
      for (auto it = live.begin(); it != live.end(); ++it) {
        if (it->first == e.pointer) {
          out << "f," << it->second.first << ',' << it->second.second << ',' << e.state << '\n';
          live.erase(it);
          break;
        }
      }
    }
  }

 private:
  struct Event {
    const void* pointer;
    std::size_t request;  // 0: a free
    int state;
  };
  static HeapTrace*& instance() {
    static HeapTrace* current = nullptr;
    return current;
  }

  std::string file_;
  StateFn state_ = nullptr;
  std::vector<Event> events_;
};

}  // namespace tlsgen_test
