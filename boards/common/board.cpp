// What every QEMU Cortex-M board of tlsgen shares: vector table and reset (with the stack painted for
// stack_peak()), ARM semihosting (console, command line, files, exit), the millisecond clocks from the
// board's timer, newlib stubs, and the board hooks tlsgen's glue calls (log, NV seed store). The UART
// and the timer are the board's own (cmsdk.cpp or nrf51.cpp).
#include "board.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "tlsgen/format.hpp"

extern "C" std::uint32_t __etext, __data_start__, __data_end__, __bss_start__, __bss_end__, __stack_limit,
    __stack_top;  // the linker script's (sections.ld)

namespace {

// ARM semihosting: operation in r0, argument block in r1, result in r0.
int semihost(int op, const void* arg) {
  register int r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

enum : int {
  kSysOpen = 0x01,
  kSysClose = 0x02,
  kSysWrite0 = 0x04,
  kSysWrite = 0x05,
  kSysRead = 0x06,
  kSysFlen = 0x0C,
  kSysTime = 0x11,
  kSysGetCmdline = 0x15,
  kSysExit = 0x18,
  kSysExitExtended = 0x20,
};
constexpr int kAdpStoppedApplicationExit = 0x20026;

char g_cmdline[256];

constexpr std::uint32_t kStackPattern = 0x5A5AA5A5u;

}  // namespace

namespace board {

std::uint32_t millis() { return timer_ticks() / (kTimerHz / 1000u); }

void host_write(const char* text) { semihost(kSysWrite0, text); }

void host_printf(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  const int n = tlsgen::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (n >= 0) host_write(line);
}

void host_exit(int status) {
  if (status == 0) {
    semihost(kSysExit, reinterpret_cast<const void*>(kAdpStoppedApplicationExit));
  } else {
    const std::uint32_t block[2] = {kAdpStoppedApplicationExit, static_cast<std::uint32_t>(status)};
    semihost(kSysExitExtended, block);
  }
  for (;;) {
  }
}

const char* host_cmdline() {
  std::uint32_t block[2] = {reinterpret_cast<std::uint32_t>(g_cmdline), sizeof g_cmdline};
  if (semihost(kSysGetCmdline, block) != 0) g_cmdline[0] = '\0';
  return g_cmdline;
}

const char* cmdline_arg(const char* key, char* out, std::size_t size) {
  const char* cmdline = g_cmdline[0] != '\0' ? g_cmdline : host_cmdline();
  const std::size_t klen = std::strlen(key);
  for (const char* p = cmdline; *p != '\0'; ++p) {
    if ((p == cmdline || p[-1] == ' ') && std::strncmp(p, key, klen) == 0 && p[klen] == '=') {
      std::size_t n = 0;
      for (p += klen + 1; *p != '\0' && *p != ' ' && n + 1 < size; ++p) out[n++] = *p;
      out[n] = '\0';
      return out;
    }
  }
  return nullptr;
}

long host_read_file(const char* path, std::span<std::byte> out) {
  const std::uint32_t open_block[3] = {reinterpret_cast<std::uint32_t>(path), 1 /* "rb" */,
                                       static_cast<std::uint32_t>(std::strlen(path))};
  const int handle = semihost(kSysOpen, open_block);
  if (handle == -1) return -1;
  const std::uint32_t flen_block[1] = {static_cast<std::uint32_t>(handle)};
  const int length = semihost(kSysFlen, flen_block);
  long result = -1;
  if (length >= 0 && static_cast<std::size_t>(length) <= out.size()) {
    const std::uint32_t read_block[3] = {static_cast<std::uint32_t>(handle), reinterpret_cast<std::uint32_t>(out.data()),
                                         static_cast<std::uint32_t>(length)};
    if (semihost(kSysRead, read_block) == 0) result = length;  // returns the bytes NOT read
  }
  semihost(kSysClose, flen_block);
  return result;
}

long host_read_some(const char* path, std::span<std::byte> out) {
  const std::uint32_t open_block[3] = {reinterpret_cast<std::uint32_t>(path), 1 /* "rb" */,
                                       static_cast<std::uint32_t>(std::strlen(path))};
  const int handle = semihost(kSysOpen, open_block);
  if (handle == -1) return -1;
  const std::uint32_t read_block[3] = {static_cast<std::uint32_t>(handle), reinterpret_cast<std::uint32_t>(out.data()),
                                       static_cast<std::uint32_t>(out.size())};
  const int not_read = semihost(kSysRead, read_block);  // returns the bytes NOT read
  const std::uint32_t close_block[1] = {static_cast<std::uint32_t>(handle)};
  semihost(kSysClose, close_block);
  return not_read < 0 || static_cast<std::size_t>(not_read) > out.size() ? -1
                                                                          : static_cast<long>(out.size()) - not_read;
}

int host_open_write(const char* path) {
  const std::uint32_t open_block[3] = {reinterpret_cast<std::uint32_t>(path), 5 /* "wb" */,
                                       static_cast<std::uint32_t>(std::strlen(path))};
  return semihost(kSysOpen, open_block);
}

bool host_write_handle(int handle, std::span<const std::byte> data) {
  const std::uint32_t write_block[3] = {static_cast<std::uint32_t>(handle), reinterpret_cast<std::uint32_t>(data.data()),
                                        static_cast<std::uint32_t>(data.size())};
  return semihost(kSysWrite, write_block) == 0;
}

void host_close(int handle) {
  const std::uint32_t close_block[1] = {static_cast<std::uint32_t>(handle)};
  semihost(kSysClose, close_block);
}

long long host_time() { return static_cast<long long>(static_cast<std::uint32_t>(semihost(kSysTime, nullptr))); }

std::uint64_t millis64() {
  // The timer wraps every 2^32 ticks (171.8 s at 25 MHz, 268 s at 16 MHz): extend it while it is read at
  // least once per wrap (every mbedTLS use of the clock is).
  static std::uint32_t last = 0;
  static std::uint64_t high = 0;
  const std::uint32_t now = timer_ticks();
  if (now < last) high += std::uint64_t{1} << 32;
  last = now;
  return (high + now) / (kTimerHz / 1000u);
}

long host_write_file(const char* path, std::span<const std::byte> data) {
  const std::uint32_t open_block[3] = {reinterpret_cast<std::uint32_t>(path), 5 /* "wb" */,
                                       static_cast<std::uint32_t>(std::strlen(path))};
  const int handle = semihost(kSysOpen, open_block);
  if (handle == -1) return -1;
  const std::uint32_t write_block[3] = {static_cast<std::uint32_t>(handle), reinterpret_cast<std::uint32_t>(data.data()),
                                        static_cast<std::uint32_t>(data.size())};
  const long result = semihost(kSysWrite, write_block) == 0 ? static_cast<long>(data.size()) : -1;
  const std::uint32_t close_block[1] = {static_cast<std::uint32_t>(handle)};
  semihost(kSysClose, close_block);
  return result;
}

std::size_t stack_size() {
  return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(&__stack_top) -
                                  reinterpret_cast<std::uintptr_t>(&__stack_limit));
}

std::size_t stack_peak() {
  const std::uint32_t* w = &__stack_limit;
  while (w < &__stack_top && *w == kStackPattern) ++w;
  return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(&__stack_top) - reinterpret_cast<std::uintptr_t>(w));
}

}  // namespace board

// ---- Log (tlsgen glue hook, platform.debug.level > 0: mbedtls_printf's text) -------------------------
extern "C" void tlsgen_board_log(const char* text, std::size_t len) {
  char line[257];
  const std::size_t n = len < sizeof line - 1 ? len : sizeof line - 1;
  std::memcpy(line, text, n);
  line[n] = '\0';
  board::host_write(line);
}

// ---- NV seed store (tlsgen glue hooks, platform.entropy: nv_seed) ----------------------------------
// The build provisions a random seed into the image (.nv_seed, see board.cmake); the seed mbedTLS
// rewrites on every boot lives in "nv_seed.bin" in QEMU's working directory, standing in for the
// flash page a real board would erase and program.
extern "C" const unsigned char tlsgen_provisioned_nv_seed[64];

extern "C" int tlsgen_board_nv_seed_read(unsigned char* buf, std::size_t len) {
  std::byte stored[64];
  if (len > sizeof stored) return -1;
  const long n = board::host_read_file("nv_seed.bin", stored);
  if (n == static_cast<long>(len)) {
    std::memcpy(buf, stored, len);
  } else {
    std::memcpy(buf, tlsgen_provisioned_nv_seed, len);  // first boot
  }
  return 0;
}

extern "C" int tlsgen_board_nv_seed_write(unsigned char* buf, std::size_t len) {
  return board::host_write_file("nv_seed.bin", std::span(reinterpret_cast<const std::byte*>(buf), len)) ==
                 static_cast<long>(len)
             ? 0
             : -1;
}

// ---- reset, vectors, newlib stubs --------------------------------------------------------------------
extern "C" {
int main();
void __libc_init_array();

[[noreturn]] void Reset_Handler() {
  // The stack below this frame gets a pattern first (stack_peak() looks for the deepest changed word).
  std::uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (std::uint32_t* w = &__stack_limit; w + 16 < sp; ++w) *w = kStackPattern;
  const std::uint32_t* src = &__etext;
  for (std::uint32_t* dst = &__data_start__; dst < &__data_end__;) *dst++ = *src++;
  for (std::uint32_t* dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
#if defined(__ARM_FP)
  // FPU: full access to CP10 and CP11 (the core's flags use -mfloat-abi=hard).
  *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88u) |= (0xFu << 20);
  __asm__ volatile("dsb\n isb" ::: "memory");
#endif
  board::init();
  __libc_init_array();
  board::host_exit(main());
}

[[noreturn]] void Fault_Handler() {
  board::host_write("FAULT: hard fault / unexpected exception\n");
  board::host_exit(99);
}

__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16])() = {
    reinterpret_cast<void (*)()>(&__stack_top),
    Reset_Handler,
    Fault_Handler,  // NMI
    Fault_Handler,  // HardFault
    Fault_Handler,  // MemManage
    Fault_Handler,  // BusFault
    Fault_Handler,  // UsageFault
    Fault_Handler,  // SecureFault (ARMv8-M Mainline; reserved elsewhere)
    nullptr, nullptr, nullptr,
    Fault_Handler,  // SVCall
    Fault_Handler,  // DebugMon
    nullptr,
    Fault_Handler,  // PendSV
    Fault_Handler,  // SysTick
};

// newlib: no heap of its own (mbedTLS uses the generated tlsgen heap), no files.
void* _sbrk(int) {
  errno = ENOMEM;
  return reinterpret_cast<void*>(-1);
}
void _exit(int status) { board::host_exit(status); }
// -nostartfiles: no crti.o, so __libc_init_array's _init and _fini hooks are empty here.
void _init() {}
void _fini() {}
}
