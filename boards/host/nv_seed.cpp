// platform.entropy: [nv_seed] on a host: the seed lives in a file ($TLSGEN_NV_SEED_FILE, else
// nv_seed.bin in the working directory), standing in for a device's flash. A missing file is the first
// boot: it is made from the kernel's generator, as a factory provisions a device.
#include <sys/random.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace {
const char* seed_path() {
  const char* env = std::getenv("TLSGEN_NV_SEED_FILE");
  return env != nullptr && env[0] != '\0' ? env : "nv_seed.bin";
}
}  // namespace

extern "C" int tlsgen_board_nv_seed_read(unsigned char* buf, std::size_t len) {
  if (std::FILE* f = std::fopen(seed_path(), "rb")) {
    const std::size_t n = std::fread(buf, 1, len, f);
    std::fclose(f);
    if (n == len) {
      return 0;
    }
  }
  std::size_t got = 0;
  while (got < len) {
    const ssize_t n = ::getrandom(buf + got, len - got, 0);
    if (n <= 0) {
      return -1;
    }
    got += static_cast<std::size_t>(n);
  }
  return 0;
}

extern "C" int tlsgen_board_nv_seed_write(unsigned char* buf, std::size_t len) {
  std::FILE* f = std::fopen(seed_path(), "wb");
  if (f == nullptr) {
    return -1;
  }
  const std::size_t n = std::fwrite(buf, 1, len, f);
  return std::fclose(f) == 0 && n == len ? 0 : -1;
}
