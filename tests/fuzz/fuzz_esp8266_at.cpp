// libFuzzer target: the ESP8266 AT parser on arbitrary modem bytes. The input is what the modem
// says; the driver runs init/open/connect/write/read/close against it. Must never crash, read or
// write out of bounds (ASan), or hang (every wait is bounded by the fake clock).
#include <cstdint>
#include <cstring>

#include "tlsgen/esp8266_at.hpp"

namespace {
class ReplayUart final : public tlsgen::Uart {
 public:
  ReplayUart(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t write(std::span<const std::byte> bytes) override { return bytes.size(); }
  std::size_t read(std::span<std::byte> buffer) override {
    std::size_t n = 0;
    while (n < buffer.size() && pos_ < size_ && n < 7) buffer[n++] = static_cast<std::byte>(data_[pos_++]);
    return n;
  }
  std::uint32_t now_ms() override { return now_; }
  void idle() override { now_ += 5; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::uint32_t now_ = 0;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ReplayUart uart(data, size);
  std::byte storage[300];
  tlsgen::Esp8266AtStack stack(uart, storage, 2, {50, 50, 50});
  (void)stack.init();
  auto a = stack.open(tlsgen::Mode::kBlocking);
  auto b = stack.open(tlsgen::Mode::kNonBlocking);
  if (a.ok()) (void)stack.connect(a.value(), "127.0.0.1", 443);
  if (b.ok()) (void)stack.connect(b.value(), "127.0.0.1", 444);
  static const char msg[] = "GET / HTTP/1.0\r\n\r\n";
  std::byte buf[97];
  for (int i = 0; i < 4; ++i) {
    if (a.ok()) {
      (void)stack.write(a.value(), std::as_bytes(std::span(msg, sizeof msg - 1)));
      (void)stack.read(a.value(), buf);
    }
    if (b.ok()) (void)stack.read(b.value(), buf);
  }
  if (a.ok()) (void)stack.close(a.value());
  if (b.ok()) (void)stack.close(b.value());
  return 0;
}
