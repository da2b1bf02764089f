// SslPlatform / SslConfig / SslTcpStack on one profile's generated config, without a network:
// feature guards per compiled-in feature, the ClientHello the profile preset produces, the
// transport-to-mbedTLS translation (over a scripted TcpStack), and teardown to zero heap bytes.
// Built once per host profile (ssl_api_test_<profile>).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mbedtls/build_info.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "tlsgen/glue.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/ssl_tcp_stack.hpp"
#include "tlsgen_profile.hpp"

#if defined(MBEDTLS_PLATFORM_PRINTF_ALT)
// Debug profiles (host-debug-alpn): the glue hands mbedtls_printf's text to the board's log hook.
extern "C" void tlsgen_board_log(const char* text, std::size_t len) { std::fwrite(text, 1, len, stderr); }
#endif

namespace {

using tlsgen::Code;
using tlsgen::Status;
namespace profile = tlsgen::profile;

// An EC P-256 test CA (public certificate only).
constexpr char kTestCaPem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBljCCAT2gAwIBAgIUXdXPXkYbU+RqgQw3x9bwrhb9RmYwCgYIKoZIzj0EAwIw\n"
    "GTEXMBUGA1UEAwwOdGxzZ2VuIHRlc3QgQ0EwHhcNMjYxMTI0MjE1NzIyWhcNMzYx\n"
    "MTIxMjE1NzIyWjAZMRcwFQYDVQQDDA50bHNnZW4gdGVzdCBDQTBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABDQwo7C0K7oxKWQ6N6XeCEujuMTHivcoflyjsWeNbp6r\n"
    "RHdeC779LprQ5X1wABndOXp3D0EP5UnBIUbp/ctlFJ6jYzBhMB0GA1UdDgQWBBR4\n"
    "2pfng9C5Oc9Fz0EKYwKw+OS16jAfBgNVHSMEGDAWgBR42pfng9C5Oc9Fz0EKYwKw\n"
    "+OS16jAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQD\n"
    "AgNHADBEAiBADLIXOkbxghU51romAlbJTIs16ortQSNDZXlqq73DiwIgUkKeMo19\n"
    "YBtodfPjMue0D2uUSdRpPwRyvEUHEvawpLQ=\n"
    "-----END CERTIFICATE-----\n";

// The device's P-256 certificate (CN=tlsgen-device) and its key; an unrelated P-256 key; a P-384 key.
constexpr char kDeviceCertPem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBdDCCARqgAwIBAgIBBzAKBggqhkjOPQQDAjANMQswCQYDVQQDDAJjYTAeFw0y\n"
    "NjEyMDMwMjI5MTBaFw0zNjExMzAwMjI5MTBaMBgxFjAUBgNVBAMMDXRsc2dlbi1k\n"
    "ZXZpY2UwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQh3/3JzbOeiDRNzcx3GW41\n"
    "qY1yOW5fQrITY3Ljzttm9P3SYifbSONw77c/j3C/PhKx2/ryxWtMPebBsWo1ED3A\n"
    "o2AwXjAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAdBgNVHQ4EFgQU68n9\n"
    "YuixKSCMEQDa429/XUjJh/AwHwYDVR0jBBgwFoAU8FEOuQ5Yc1DNfO8rXV5nBSV9\n"
    "rZEwCgYIKoZIzj0EAwIDSAAwRQIhAIR661DcrslaEEwSs/YfaJgccTnXvvvY2whU\n"
    "ARtf3QOsAiB3dfRQGQbFf7R4uPEibLHy6G4dWAh7GV3EDTYAcXuGyw==\n"
    "-----END CERTIFICATE-----\n";
constexpr char kDeviceKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmW5o/2XSVpMvKcwG\n"
    "UEmJtOYFKjLDTUf7clA5s7QXqXWhRANCAAQh3/3JzbOeiDRNzcx3GW41qY1yOW5f\n"
    "QrITY3Ljzttm9P3SYifbSONw77c/j3C/PhKx2/ryxWtMPebBsWo1ED3A\n"
    "-----END PRIVATE KEY-----\n";
// An unrelated P-256 key.
[[maybe_unused]] constexpr char kOtherKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxvjkT3RLmtWCItL/\n"
    "9ZdqdH6+kyCuzq6mkFj5Nu1Gdw2hRANCAAQE+rniwkXAFCEm3FZZz63UDeQy/dVe\n"
    "Z/fmnIMf1lR7g+eSBEZaLov3fqcnx5092m1qyrKLjFvtATM5+i2USfNI\n"
    "-----END PRIVATE KEY-----\n";
// A P-384 key (not the profile's key type).
[[maybe_unused]] constexpr char kP384KeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDmez5XPgST4q/e6eeh\n"
    "wbgpRZtoJhb3LuUCCF8eGpnZ/bsE5EH/kCAR5bAa0/XPNyuhZANiAATmD7BZlksZ\n"
    "6Igae5FeZ8PFIMRAZoCT15iAyZCHuJXPRy+4pFb1gjRkqR3cZfIo/6J17N8Ht8E/\n"
    "YUw/QmJBQ9xgiSA5FXJ0LJAs22tujci6sOWJU8zz1Gdy8JWfi2dobFY=\n"
    "-----END PRIVATE KEY-----\n";
// kDeviceKeyPem's private scalar, big-endian (openssl pkey -text).
[[maybe_unused]] constexpr char kDeviceKeyScalarHex[] = "996e68ff65d256932f29cc06504989b4e6052a32c34d47fb725039b3b417a975";

std::span<const std::byte> bytes(const char* s) { return {reinterpret_cast<const std::byte*>(s), std::strlen(s)}; }

std::size_t heap_in_use() { return tlsgen::glue::heap().stats().in_use; }

// A TcpStack whose behaviour the test scripts: what connect returns, how many bytes a write
// accepts, what read returns once the inbox is empty. Records everything written.
class ScriptedTransport final : public tlsgen::TcpStack {
 public:
  Status connect_result;
  std::size_t max_write = SIZE_MAX;
  Status read_result = Status(Code::kWouldBlock);
  std::size_t max_read = SIZE_MAX;
  Status write_interruption = Status::Ok();  // not Ok: every other write returns it (the first included)
  std::uint32_t* clock_ms = nullptr;  // advanced by ms_per_read on every read
  std::uint32_t ms_per_read = 0;
  std::vector<std::byte> sent;
  std::vector<std::byte> inbox;
  int open_sockets = 0;
  int reads = 0;
  int writes = 0;

  tlsgen::Result<tlsgen::Socket> open(tlsgen::Mode) override {
    ++open_sockets;
    return tlsgen::Socket{next_++};
  }
  Status connect(tlsgen::Socket, const char*, std::uint16_t) override { return connect_result; }
  tlsgen::IoResult write(tlsgen::Socket, std::span<const std::byte> data) override {
    if (!write_interruption.ok() && (writes++ % 2) == 0) return {write_interruption, 0};
    const std::size_t n = data.size() < max_write ? data.size() : max_write;
    sent.insert(sent.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    return {Status(), n};
  }
  tlsgen::IoResult read(tlsgen::Socket, std::span<std::byte> buffer) override {
    ++reads;
    if (clock_ms != nullptr) *clock_ms += ms_per_read;
    if (inbox.empty()) return {read_result, 0};
    std::size_t n = buffer.size() < inbox.size() ? buffer.size() : inbox.size();
    n = n < max_read ? n : max_read;
    std::memcpy(buffer.data(), inbox.data(), n);
    inbox.erase(inbox.begin(), inbox.begin() + static_cast<std::ptrdiff_t>(n));
    return {Status(), n};
  }
  Status close(tlsgen::Socket) override {
    --open_sockets;
    return Status();
  }

 private:
  tlsgen::Socket next_ = 100;
};

// What the ClientHello in `wire` (the first record the client sent) offers.
struct ClientHello {
  bool parsed = false;
  std::vector<int> suites;               // without TLS_EMPTY_RENEGOTIATION_INFO_SCSV (0x00FF)
  std::vector<std::uint16_t> groups;     // supported_groups (10)
  std::string server_name;               // server_name (0)
  int max_fragment_code = -1;            // max_fragment_length (1)
  bool supported_versions_13 = false;    // supported_versions (43) lists 0x0304
  std::size_t record_bytes = 0;          // header + body of the first record
};

ClientHello parse_client_hello(const std::vector<std::byte>& wire) {
  ClientHello ch;
  auto u8 = [&](std::size_t i) { return static_cast<unsigned>(wire.at(i)); };
  auto u16 = [&](std::size_t i) { return (u8(i) << 8) | u8(i + 1); };
  if (wire.size() < 9 || u8(0) != 0x16 || u8(5) != 0x01) return ch;
  ch.record_bytes = 5 + u16(3);
  if (wire.size() < ch.record_bytes) return ch;
  std::size_t p = 9 + 2 + 32;     // record + handshake headers, legacy_version, random
  p += 1 + u8(p);                 // session id
  const std::size_t suites_end = p + 2 + u16(p);
  for (p += 2; p < suites_end; p += 2) {
    if (u16(p) != 0x00FF) ch.suites.push_back(static_cast<int>(u16(p)));
  }
  p += 1 + u8(p);  // compression methods
  const std::size_t ext_end = p + 2 + u16(p);
  for (p += 2; p + 4 <= ext_end;) {
    const unsigned type = u16(p), len = u16(p + 2);
    const std::size_t d = p + 4;
    if (type == 0 && len >= 5) {
      const unsigned name_len = u16(d + 3);
      for (unsigned i = 0; i < name_len; ++i) ch.server_name.push_back(static_cast<char>(u8(d + 5 + i)));
    } else if (type == 1 && len == 1) {
      ch.max_fragment_code = static_cast<int>(u8(d));
    } else if (type == 10) {
      for (std::size_t g = d + 2; g < d + 2 + u16(d); g += 2) ch.groups.push_back(static_cast<std::uint16_t>(u16(g)));
    } else if (type == 43) {
      for (std::size_t v = d + 1; v < d + 1 + u8(d); v += 2) ch.supported_versions_13 |= u16(v) == 0x0304;
    }
    p = d + len;
  }
  ch.parsed = true;
  return ch;
}

class SslApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(heap_in_use(), 0U);
    ASSERT_TRUE(platform.setup().ok());
    ASSERT_TRUE(platform.seed_rng(bytes("ssl_api_test")).ok());
  }
  void TearDown() override {
    config.deinit();
    if (platform.is_setup()) {
      EXPECT_TRUE(platform.deinit().ok());
    }
    // Deterministic teardown: every byte mbedTLS took from the heap went back.
    EXPECT_EQ(heap_in_use(), 0U);
    EXPECT_EQ(tlsgen::glue::heap().stats().live_blocks, 0U);
  }
  Status make_config() { return platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kProfile, config); }
  // Credentials matching the profile, so a handshake can start.
  void add_credentials() {
    if constexpr (profile::kUsesPsk) {
      ASSERT_TRUE(config.psk(bytes("0123456789abcdef"), bytes("tlsgen-client")).ok());
    }
    if constexpr (profile::kUsesCertificates) {
      ASSERT_TRUE(config.ca_chain(kTestCaPem).ok());
    }
  }

  tlsgen::SslPlatform platform;
  tlsgen::SslConfig config;
};

// ---- SslPlatform ---------------------------------------------------------------------------

TEST_F(SslApi, Platform_SetupTwice_FailedPrecondition) {
  EXPECT_EQ(platform.setup().code(), Code::kFailedPrecondition);
  EXPECT_EQ(platform.seed_rng().code(), Code::kFailedPrecondition);  // already seeded
}

TEST_F(SslApi, Platform_DeinitWhileConfigLive_FailedPreconditionThenOk) {
  ASSERT_TRUE(make_config().ok());
  EXPECT_EQ(platform.deinit().code(), Code::kFailedPrecondition);
  config.deinit();
  EXPECT_TRUE(platform.deinit().ok());
  EXPECT_EQ(heap_in_use(), 0U);
}

TEST_F(SslApi, Platform_Random_FillsBuffer) {
  std::array<std::byte, 32> a{}, b{};
  EXPECT_EQ(platform.random(a), 0);
  EXPECT_EQ(platform.random(b), 0);
  EXPECT_NE(std::memcmp(a.data(), b.data(), a.size()), 0);
}

TEST(SslPlatformOrder, ConfigBeforeSeed_FailedPrecondition) {
  tlsgen::SslPlatform platform;
  tlsgen::SslConfig config;
  EXPECT_EQ(platform.seed_rng().code(), Code::kFailedPrecondition);  // before setup
  ASSERT_TRUE(platform.setup().ok());
  EXPECT_EQ(platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kProfile, config).code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(config.authmode(tlsgen::Verify::kNone).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(platform.deinit().ok());
  EXPECT_EQ(platform.deinit().code(), Code::kFailedPrecondition);
  EXPECT_EQ(heap_in_use(), 0U);
}

TEST(SslPlatformOrder, SetupOverCallerRegion_UsesThatRegion) {
  alignas(16) static std::byte region[profile::kHeapBytes];
  tlsgen::SslPlatform platform;
  ASSERT_TRUE(platform.setup(region).ok());
  ASSERT_TRUE(platform.seed_rng().ok());
  tlsgen::SslConfig config;
  ASSERT_TRUE(platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kDefault, config).ok());
  config.deinit();
  EXPECT_TRUE(platform.deinit().ok());
  EXPECT_EQ(heap_in_use(), 0U);
  EXPECT_EQ(platform.setup(std::span<std::byte>()).code(), Code::kInvalidArgument);
}

// ---- SslConfig feature guards --------------------------------------------------------------

TEST_F(SslApi, Config_Twice_FailedPrecondition) {
  ASSERT_TRUE(make_config().ok());
  EXPECT_EQ(make_config().code(), Code::kFailedPrecondition);
}

TEST_F(SslApi, Config_Datagram_OnlyWithDtls) {
  const Status st = platform.new_client_config(tlsgen::Transport::kDatagram, tlsgen::Preset::kProfile, config);
#if defined(MBEDTLS_SSL_PROTO_DTLS)
  EXPECT_TRUE(st.ok());
#else
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_FALSE(config.initialized());
#endif
}

TEST_F(SslApi, Config_Psk_AcceptedOnlyWithPskKeyExchange) {
  ASSERT_TRUE(make_config().ok());
  const Status st = config.psk(bytes("0123456789abcdef"), bytes("tlsgen-client"));
  // A PSK key exchange of the profile's suites; TLS 1.3 resumption compiles PSK handshakes in without one, and
  // psk() is refused there too (mbedTLS would offer the key as a TLS 1.3 external PSK).
#if defined(MBEDTLS_SSL_HANDSHAKE_WITH_PSK_ENABLED)
  if (profile::kUsesPsk) {
    EXPECT_TRUE(st.ok());
    const std::vector<std::byte> too_long(MBEDTLS_PSK_MAX_LEN + 1, std::byte{1});
    EXPECT_EQ(config.psk(too_long, bytes("id")).code(), Code::kInvalidArgument);
  } else {
    EXPECT_EQ(st.code(), Code::kFailedPrecondition);
    EXPECT_TRUE(profile::kResumePskEphemeral || profile::kResumePskKe);
  }
#else
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_FALSE(profile::kUsesPsk);
#endif
  EXPECT_EQ(config.psk({}, bytes("id")).code(), Code::kInvalidArgument);
}

TEST_F(SslApi, Config_CaChain_ParsedOnlyWithX509) {
  ASSERT_TRUE(make_config().ok());
  const Status st = config.ca_chain(kTestCaPem);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  EXPECT_TRUE(st.ok());
  const Status bad = config.ca_chain("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(bad.code(), Code::kTls);
  EXPECT_LT(bad.detail(), 0);
#else
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
#endif
  EXPECT_EQ(config.ca_chain(static_cast<const char*>(nullptr)).code(), Code::kInvalidArgument);
}

#if defined(MBEDTLS_X509_CRT_PARSE_C)
TEST_F(SslApi, Config_CaChainPartlyBad_DropsWholeChain) {
  ASSERT_TRUE(make_config().ok());
  const std::size_t empty = heap_in_use();
  ASSERT_TRUE(config.ca_chain(kTestCaPem).ok());
  EXPECT_GT(heap_in_use(), empty);  // the parsed CA lives on the heap
  EXPECT_NE(config.native()->MBEDTLS_PRIVATE(ca_chain), nullptr);

  // One good certificate and one that does not parse: mbedTLS keeps the good one and returns 1 (the
  // number that failed). The configuration must not trust a partly parsed list, nor keep the CA the
  // first call added: everything goes, nothing is trusted.
  const std::string partly_bad =
      std::string(kTestCaPem) + "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(config.ca_chain(partly_bad.c_str()), Status(Code::kInvalidArgument, 1));
  EXPECT_EQ(heap_in_use(), empty);
  EXPECT_EQ(config.native()->MBEDTLS_PRIVATE(ca_chain), nullptr);

  // All of it bad: mbedTLS's parse error, and still nothing trusted.
  ASSERT_TRUE(config.ca_chain(kTestCaPem).ok());
  const Status bad = config.ca_chain("-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(bad.code(), Code::kTls);
  EXPECT_EQ(heap_in_use(), empty);
  EXPECT_EQ(config.native()->MBEDTLS_PRIVATE(ca_chain), nullptr);

  // A later good call trusts again.
  ASSERT_TRUE(config.ca_chain(kTestCaPem).ok());
  EXPECT_NE(config.native()->MBEDTLS_PRIVATE(ca_chain), nullptr);
}
#endif

// ---- the device's certificate (tls.client_certificate) ---------------------------------------------

TEST_F(SslApi, Config_ClientCertificate_OnlyWithTheProfilesField) {
  ASSERT_TRUE(make_config().ok());
  const Status st = config.client_certificate(kDeviceCertPem, kDeviceKeyPem);
  if constexpr (profile::kClientCertificate) {
    EXPECT_TRUE(st.ok()) << tlsgen::name(st.code()) << " " << st.detail();
    EXPECT_TRUE(config.has_client_certificate());
  } else {
    // Without the field the heap is not sized for it (and a PSK-only profile has no X.509 at all).
    EXPECT_EQ(st.code(), Code::kFailedPrecondition);
    EXPECT_FALSE(config.has_client_certificate());
  }
  EXPECT_EQ(config.client_certificate(nullptr, kDeviceKeyPem).code(), Code::kInvalidArgument);
  EXPECT_EQ(config.client_certificate(kDeviceCertPem, nullptr).code(), Code::kInvalidArgument);
}

#if defined(MBEDTLS_X509_CRT_PARSE_C)
// The key as it sits in RAM on this host: mbedTLS's limbs are little-endian words, least significant first,
// so the whole number is the big-endian scalar reversed.
std::vector<std::byte> scalar_in_memory() {
  std::vector<std::byte> out;
  const std::string hex = kDeviceKeyScalarHex;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

bool heap_holds(const std::vector<std::byte>& needle) {
  const std::span<std::byte> region = tlsgen::glue::heap_region();
  return std::search(region.begin(), region.end(), needle.begin(), needle.end()) != region.end();
}

TEST_F(SslApi, ClientCertificate_KeyPairAndSizesChecked_AllOrNothing) {
  if constexpr (!profile::kClientCertificate) {
    // Refused before anything is parsed, whatever the input: nothing reaches the heap.
    ASSERT_TRUE(make_config().ok());
    const std::size_t empty = heap_in_use();
    EXPECT_EQ(config.client_certificate(kDeviceCertPem, kOtherKeyPem).code(), Code::kFailedPrecondition);
    EXPECT_EQ(config.client_certificate(kDeviceCertPem, kP384KeyPem).code(), Code::kFailedPrecondition);
    EXPECT_EQ(heap_in_use(), empty);
  } else {
    ASSERT_TRUE(make_config().ok());
    const std::size_t empty = heap_in_use();
    ASSERT_TRUE(config.client_certificate(kDeviceCertPem, kDeviceKeyPem).ok());
    EXPECT_GT(heap_in_use(), empty);  // the parsed chain and key live on the heap
    EXPECT_NE(config.native()->MBEDTLS_PRIVATE(key_cert), nullptr);

    // A key that is not the certificate's: refused with the pair check's code, and the earlier identity is
    // gone too (all or nothing): the configuration sends no certificate.
    const Status wrong = config.client_certificate(kDeviceCertPem, kOtherKeyPem);
    EXPECT_EQ(wrong.code(), Code::kInvalidArgument);
    EXPECT_LT(wrong.detail(), 0);
    EXPECT_FALSE(config.has_client_certificate());
    EXPECT_EQ(config.native()->MBEDTLS_PRIVATE(key_cert), nullptr);
    EXPECT_EQ(heap_in_use(), empty);

    // A key of another type or size than the profile's (P-384 for a P-256 profile): its size in the detail; a
    // curve the profile does not compile in does not even parse (MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE).
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
    EXPECT_EQ(config.client_certificate(kDeviceCertPem, kP384KeyPem), Status(Code::kInvalidArgument, 384));
#else
    EXPECT_EQ(config.client_certificate(kDeviceCertPem, kP384KeyPem), Status(Code::kTls, -0x3A00));
#endif
    EXPECT_EQ(heap_in_use(), empty);

    // A key that does not parse: mbedTLS's code.
    const Status garbage = config.client_certificate(kDeviceCertPem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    EXPECT_EQ(garbage.code(), Code::kTls);
    EXPECT_LT(garbage.detail(), 0);

    // A chain beyond what the profile declares (more certificates, or more DER bytes): the heap and the output
    // record are sized for the declared one.
    std::string chain(kDeviceCertPem);
    for (std::size_t i = 0; i < profile::kClientChainCerts; ++i) chain += kDeviceCertPem;
    const Status big = config.client_certificate(chain.c_str(), kDeviceKeyPem);
    EXPECT_EQ(big.code(), Code::kResourceExhausted);
    EXPECT_GT(big.detail(), 0);
    EXPECT_EQ(heap_in_use(), empty);

    // And a good call after all of that works.
    ASSERT_TRUE(config.client_certificate(kDeviceCertPem, kDeviceKeyPem).ok());
    EXPECT_TRUE(config.has_client_certificate());
  }
}

TEST_F(SslApi, ClientCertificate_KeyWipedOnDeinitAndOnReplace) {
  static_assert(sizeof(mbedtls_mpi_uint) == 8, "the memory probe reads the key as this host's 64-bit limbs");
  if constexpr (!profile::kClientCertificate) {
    // Never loaded, so never in memory.
    ASSERT_TRUE(make_config().ok());
    EXPECT_FALSE(config.client_certificate(kDeviceCertPem, kDeviceKeyPem).ok());
    EXPECT_FALSE(heap_holds(scalar_in_memory()));
  } else {
    const std::vector<std::byte> scalar = scalar_in_memory();
    ASSERT_FALSE(heap_holds(scalar));
    ASSERT_TRUE(make_config().ok());
    ASSERT_TRUE(config.client_certificate(kDeviceCertPem, kDeviceKeyPem).ok());
    ASSERT_TRUE(heap_holds(scalar));  // the probe finds the parsed key
    // A failed call drops the key it replaces: wiped, not just freed.
    ASSERT_EQ(config.client_certificate(kDeviceCertPem, kOtherKeyPem).code(), Code::kInvalidArgument);
    EXPECT_FALSE(heap_holds(scalar));
    ASSERT_TRUE(config.client_certificate(kDeviceCertPem, kDeviceKeyPem).ok());
    ASSERT_TRUE(heap_holds(scalar));
    config.deinit();
    EXPECT_FALSE(heap_holds(scalar));
  }
}
#endif

#if defined(MBEDTLS_X509_CRT_PARSE_C)
// A software stand-in for a secure element: the key held apart, a signing function that counts its calls.
struct TestSigner {
  mbedtls_pk_context key{};
  tlsgen::SslPlatform* platform = nullptr;
  int calls = 0;
  int fail_with = 0;  // != 0: the signing function fails with this
};

int test_sign(void* context, mbedtls_md_type_t md, std::span<const std::byte> digest, std::span<std::byte> out,
              std::size_t* written) {
  auto* s = static_cast<TestSigner*>(context);
  ++s->calls;
  if (s->fail_with != 0) return s->fail_with;
  return mbedtls_pk_sign(&s->key, md, reinterpret_cast<const unsigned char*>(digest.data()), digest.size(),
                         reinterpret_cast<unsigned char*>(out.data()), out.size(), written, mbedtls_ctr_drbg_random,
                         s->platform->drbg());
}

TEST_F(SslApi, ClientCertificate_ExternalKey_CheckedOnceAndAllOrNothing) {
  ASSERT_TRUE(make_config().ok());
  const std::size_t empty = heap_in_use();
  TestSigner signer;
  signer.platform = &platform;
  mbedtls_pk_init(&signer.key);
  const auto cert = std::span(reinterpret_cast<const std::byte*>(kDeviceCertPem), sizeof kDeviceCertPem);
  EXPECT_EQ(config.client_certificate(cert, nullptr, &signer).code(), Code::kInvalidArgument);
  if constexpr (!profile::kClientCertificate) {
    EXPECT_EQ(config.client_certificate(cert, test_sign, &signer).code(), Code::kFailedPrecondition);
    EXPECT_EQ(signer.calls, 0);
  } else {
    // The right key: one signature over a random digest, verified with the certificate's key; then mbedTLS
    // signs through it in handshakes (integration.host-mtls.mtls_external_key*).
    ASSERT_EQ(mbedtls_pk_parse_key(&signer.key, reinterpret_cast<const unsigned char*>(kDeviceKeyPem),
                                   sizeof kDeviceKeyPem, nullptr, 0, mbedtls_ctr_drbg_random, platform.drbg()),
              0);
    const std::size_t with_signer_key = heap_in_use();
    ASSERT_TRUE(config.client_certificate(cert, test_sign, &signer).ok());
    EXPECT_EQ(signer.calls, 1);
    EXPECT_TRUE(config.has_client_certificate());
    EXPECT_NE(config.native()->MBEDTLS_PRIVATE(key_cert), nullptr);

    // A signing function that fails: refused with its code, and the earlier identity is gone.
    signer.fail_with = -0x4F80;  // whatever negative code the secure element reports
    EXPECT_EQ(config.client_certificate(cert, test_sign, &signer), Status(Code::kInvalidArgument, -0x4F80));
    EXPECT_FALSE(config.has_client_certificate());
    EXPECT_EQ(config.native()->MBEDTLS_PRIVATE(key_cert), nullptr);
    EXPECT_EQ(heap_in_use(), with_signer_key);  // the chain went too

    // A key that is not the certificate's: its signature does not verify.
    signer.fail_with = 0;
    mbedtls_pk_free(&signer.key);
    mbedtls_pk_init(&signer.key);
    ASSERT_EQ(mbedtls_pk_parse_key(&signer.key, reinterpret_cast<const unsigned char*>(kOtherKeyPem),
                                   sizeof kOtherKeyPem, nullptr, 0, mbedtls_ctr_drbg_random, platform.drbg()),
              0);
    const Status wrong = config.client_certificate(cert, test_sign, &signer);
    EXPECT_EQ(wrong.code(), Code::kInvalidArgument);
    EXPECT_LT(wrong.detail(), 0);
    EXPECT_FALSE(config.has_client_certificate());
  }
  mbedtls_pk_free(&signer.key);
  config.deinit();
  EXPECT_LE(heap_in_use(), empty);
}
#endif

TEST_F(SslApi, Config_ServerName_OnlyWithX509) {
  ASSERT_TRUE(make_config().ok());
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  EXPECT_TRUE(config.server_name("device.example").ok());
  EXPECT_STREQ(config.server_name(), "device.example");
  EXPECT_EQ(config.server_name("").code(), Code::kInvalidArgument);
  EXPECT_TRUE(config.server_name(nullptr).ok());
  EXPECT_EQ(config.server_name(), nullptr);
#else
  EXPECT_EQ(config.server_name("device.example").code(), Code::kFailedPrecondition);
  EXPECT_TRUE(config.server_name(nullptr).ok());
#endif
}

TEST_F(SslApi, Config_Alpn_OnlyWithSslAlpn) {
  ASSERT_TRUE(make_config().ok());
  static const char* const kProtocols[] = {"http/1.1", nullptr};
  const Status st = config.alpn(kProtocols);
#if defined(MBEDTLS_SSL_ALPN)
  EXPECT_TRUE(st.ok());
#else
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
#endif
  static const char* const kEmpty[] = {nullptr};
  EXPECT_EQ(config.alpn(kEmpty).code(), Code::kInvalidArgument);
}

TEST_F(SslApi, Config_AlpnSelection_NoneBeforeHandshakeOrForBadHandle) {
  ASSERT_TRUE(make_config().ok());
  add_credentials();
  static const char* const kProtocols[] = {"http/1.1", "h2", nullptr};
  const Status st = config.alpn(kProtocols);
#if defined(MBEDTLS_SSL_ALPN)
  ASSERT_TRUE(st.ok());
#else
  ASSERT_EQ(st.code(), Code::kFailedPrecondition);
#endif
  ScriptedTransport transport;
  std::array<tlsgen::SslSession, 1> sessions;
  tlsgen::SslTcpStack tls(config, transport, sessions);
  EXPECT_EQ(tls.alpn_protocol(0), nullptr);  // not open
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
  EXPECT_EQ(tls.alpn_protocol(sock.value()), nullptr);  // handshake not done
#if defined(MBEDTLS_SSL_ALPN)
  // The ClientHello carries the list (extension 16) in the configured order.
  const std::vector<std::byte>& hello = transport.sent;
  const std::string wire(reinterpret_cast<const char*>(hello.data()), hello.size());
  EXPECT_NE(wire.find(std::string("\x08http/1.1\x02h2", 12)), std::string::npos);
#endif
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

TEST_F(SslApi, Config_Debug_OnlyWithDebugC) {
  ASSERT_TRUE(make_config().ok());
  const Status st = config.debug([](void*, int, const char*, int, const char*) {}, nullptr, 1);
#if defined(MBEDTLS_DEBUG_C)
  EXPECT_TRUE(st.ok());
#else
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
#endif
  EXPECT_EQ(config.debug(nullptr, nullptr, 9).code(), Code::kInvalidArgument);
}

#if defined(MBEDTLS_DEBUG_C)
// The debug callback gets mbedTLS's messages, formatted by the runtime's vsnprintf: the first steps
// of a handshake over a scripted transport, each message one complete line.
TEST_F(SslApi, Debug_CallbackGetsWellFormedHandshakeLines) {
  ASSERT_TRUE(make_config().ok());
  add_credentials();
  struct Lines {
    std::vector<std::string> text;
    std::vector<int> levels;
  } lines;
  ASSERT_TRUE(config
                  .debug(
                      [](void* ctx, int level, const char* file, int line, const char* message) {
                        auto* l = static_cast<Lines*>(ctx);
                        EXPECT_NE(file, nullptr);
                        EXPECT_GT(line, 0);
                        l->levels.push_back(level);
                        l->text.emplace_back(message);
                      },
                      &lines, 3)
                  .ok());
  ScriptedTransport transport;
  std::array<tlsgen::SslSession, 1> sessions;
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
  EXPECT_TRUE(tls.close(sock.value()).ok());

  ASSERT_FALSE(lines.text.empty());
  char sent_hex[16];
  std::snprintf(sent_hex, sizeof sent_hex, "%04x", 0U - static_cast<unsigned>(transport.sent.size()));
  bool handshake = false, hello_dump = false, sent = false;
  for (std::size_t i = 0; i < lines.text.size(); ++i) {
    const std::string& t = lines.text[i];
    EXPECT_GE(lines.levels[i], 1);
    EXPECT_LE(lines.levels[i], 3);
    ASSERT_GE(t.size(), 2U) << "empty message: the formatter failed";
    EXPECT_EQ(t.back(), '\n');
    EXPECT_EQ(t.find('\n'), t.size() - 1) << t;
    EXPECT_LT(t.size(), 511U) << "cut at mbedTLS's 512-byte debug buffer: " << t;
    EXPECT_EQ(t.find("(null)"), std::string::npos) << t;
    handshake |= t == "=> handshake\n";
    hello_dump |= t.rfind("dumping 'client hello, random bytes' (32 bytes)", 0) == 0;
    // "ssl->f_send() returned <n> (-0x<hex>)": the ClientHello's byte count, printed with %d, and
    // -n as an unsigned int with %04x.
    sent |= t == "ssl->f_send() returned " + std::to_string(transport.sent.size()) + " (-0x" + sent_hex + ")\n";
  }
  EXPECT_TRUE(handshake);
  EXPECT_TRUE(hello_dump);
  EXPECT_TRUE(sent);
}
#endif

TEST_F(SslApi, Config_Authmode_AllModes) {
  ASSERT_TRUE(make_config().ok());
  EXPECT_TRUE(config.authmode(tlsgen::Verify::kNone).ok());
  EXPECT_TRUE(config.authmode(tlsgen::Verify::kOptional).ok());
  EXPECT_TRUE(config.authmode(tlsgen::Verify::kRequired).ok());
  EXPECT_EQ(config.authmode(static_cast<tlsgen::Verify>(7)).code(), Code::kInvalidArgument);
}

// ---- the profile is the preset: what the ClientHello offers -----------------------------------

TEST_F(SslApi, ProfilePreset_ClientHelloOffersExactlyTheProfile) {
  ASSERT_TRUE(make_config().ok());
  add_credentials();
  ScriptedTransport transport;
  std::array<tlsgen::SslSession, 1> sessions;
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "host.example", 443).code(), Code::kWouldBlock);

  const ClientHello ch = parse_client_hello(transport.sent);
  ASSERT_TRUE(ch.parsed);
  std::vector<int> expected_suites;
  for (const int* s = profile::kCipherSuites; *s != 0; ++s) expected_suites.push_back(*s);
  EXPECT_EQ(ch.suites, expected_suites);
  EXPECT_EQ(ch.supported_versions_13, profile::kTls13);
  if constexpr (profile::kGroups[0] != 0) {
    std::vector<std::uint16_t> expected_groups;
    for (const std::uint16_t* g = profile::kGroups; *g != 0; ++g) expected_groups.push_back(*g);
    EXPECT_EQ(ch.groups, expected_groups);
  }
#if defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
  EXPECT_EQ(ch.server_name, "host.example");  // no configured name: the connect host
#else
  EXPECT_EQ(ch.server_name, "");
#endif
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
  // The largest RFC 6066 code that fits both record buffers (512 << (code - 1) bytes).
  const std::size_t limit = profile::kInContentLen < profile::kOutContentLen ? profile::kInContentLen
                                                                             : profile::kOutContentLen;
  ASSERT_GT(ch.max_fragment_code, 0);
  EXPECT_LE(std::size_t{512} << (ch.max_fragment_code - 1), limit);
  EXPECT_GT(std::size_t{512} << ch.max_fragment_code, limit);
#else
  EXPECT_EQ(ch.max_fragment_code, -1);
#endif
  EXPECT_TRUE(tls.close(sock.value()).ok());
  EXPECT_EQ(transport.open_sockets, 0);
}

#if defined(MBEDTLS_X509_CRT_PARSE_C) && defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
TEST_F(SslApi, ServerName_OverridesConnectHostInSni) {
  ASSERT_TRUE(make_config().ok());
  add_credentials();
  ASSERT_TRUE(config.server_name("configured.example").ok());
  ScriptedTransport transport;
  std::array<tlsgen::SslSession, 1> sessions;
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "127.0.0.1", 443).code(), Code::kWouldBlock);
  EXPECT_EQ(parse_client_hello(transport.sent).server_name, "configured.example");
}
#endif

// ---- SslTcpStack over a scripted transport ---------------------------------------------------

class SslStack : public SslApi {
 protected:
  void SetUp() override {
    SslApi::SetUp();
    ASSERT_TRUE(make_config().ok());
    add_credentials();
  }
  ScriptedTransport transport;
  std::array<tlsgen::SslSession, 2> sessions;
};

TEST_F(SslStack, NonBlocking_WouldBlockUntilPeerCloses_ThenConnEofSticky) {
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
  const std::size_t hello = transport.sent.size();
  EXPECT_EQ(parse_client_hello(transport.sent).record_bytes, hello);  // the whole ClientHello went out
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
  EXPECT_EQ(transport.sent.size(), hello);  // retrying does not resend
  transport.read_result = Status(Code::kClosed);
  const Status eof = tls.connect(sock.value(), "peer.example", 443);
  EXPECT_EQ(eof, Status::Tls(MBEDTLS_ERR_SSL_CONN_EOF));
  EXPECT_EQ(tls.transport_status(sock.value()).code(), Code::kClosed);
  // Sticky: the same error from every later call until close().
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), eof);
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(tls.read(sock.value(), buf).status, eof);
  EXPECT_EQ(tls.write(sock.value(), bytes("x")).status, eof);
  EXPECT_TRUE(tls.close(sock.value()).ok());
  EXPECT_EQ(transport.open_sockets, 0);
}

TEST_F(SslStack, Resumption_GuardsBeforeAndOutsideAHandshake) {
  tlsgen::SslTcpStack tls(config, transport, sessions);
  std::array<std::byte, 512> out{};
  EXPECT_EQ(tls.save_session(0, out).status().code(), Code::kInvalidArgument);  // not open
  EXPECT_EQ(tls.offer_session(0, out).code(), Code::kInvalidArgument);
  EXPECT_FALSE(tls.resumed(0));
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.save_session(sock.value(), out).status().code(), Code::kFailedPrecondition);  // no handshake yet
  EXPECT_EQ(tls.offer_session(sock.value(), {}).code(), Code::kInvalidArgument);
  // Not a saved session: refused whole, nothing kept (the handshake then offers none).
  std::array<std::byte, 64> junk{};
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::byte>(i * 37);
  EXPECT_EQ(tls.offer_session(sock.value(), junk).code(), Code::kInvalidArgument);
  std::array<std::byte, 64> framed_junk = junk;  // the right magic, a wrong CRC
  framed_junk[0] = std::byte{'T'}; framed_junk[1] = std::byte{'G'}; framed_junk[2] = std::byte{'S'}; framed_junk[3] = std::byte{'2'};
  EXPECT_EQ(tls.offer_session(sock.value(), framed_junk).code(), Code::kInvalidArgument);
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
  EXPECT_EQ(tls.offer_session(sock.value(), junk).code(), Code::kFailedPrecondition);  // after connect() started
  EXPECT_EQ(tls.save_session(sock.value(), out).status().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(tls.resumed(sock.value()));
  EXPECT_TRUE(tls.close(sock.value()).ok());
  EXPECT_EQ(transport.open_sockets, 0);
}

TEST_F(SslStack, PartialTransportWrites_WholeClientHelloSent) {
  transport.max_write = 7;
  transport.read_result = Status(Code::kClosed);
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), Status::Tls(MBEDTLS_ERR_SSL_CONN_EOF));
  const ClientHello ch = parse_client_hello(transport.sent);
  EXPECT_TRUE(ch.parsed);
  EXPECT_EQ(transport.sent.size(), ch.record_bytes);
  EXPECT_GT(ch.record_bytes, 7U);
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

TEST_F(SslStack, TransportTimeout_TimeoutThenHandshakeResumes) {
  transport.read_result = Status(Code::kTimeout);
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  const Status st = tls.connect(sock.value(), "peer.example", 443);
  EXPECT_EQ(st.code(), Code::kTimeout);
  const std::size_t hello = transport.sent.size();
  transport.read_result = Status(Code::kClosed);
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), Status::Tls(MBEDTLS_ERR_SSL_CONN_EOF));
  EXPECT_EQ(transport.sent.size(), hello);
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

class FakeClock final : public tlsgen::Clock {
 public:
  std::uint32_t now = 1000;
  std::uint32_t now_ms() override { return now; }
};

// Issue 12, item 5: a peer that sends one byte every 2.5 s satisfies every transport read (its own
// timeout is per call), so without a deadline the handshake goes on for as long as the peer likes.
TEST_F(SslStack, HandshakeDeadline_SlowDripPeer_EndsAtTheDeadlineSticky) {
  FakeClock clock;
  transport.clock_ms = &clock.now;
  transport.ms_per_read = 2500;
  transport.max_read = 1;
  transport.read_result = Status(Code::kTimeout);
  const std::byte header[] = {std::byte{0x16}, std::byte{0x03}, std::byte{0x03}, std::byte{0x00}, std::byte{0xC8}};
  transport.inbox.assign(std::begin(header), std::end(header));
  transport.inbox.insert(transport.inbox.end(), 200, std::byte{0x02});  // a ServerHello of 200 bytes, slowly
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.set_deadlines(sock.value(), nullptr, 1, 1).code(), Code::kInvalidArgument);
  ASSERT_TRUE(tls.set_deadlines(sock.value(), &clock, 6000, 0).ok());
  const std::uint32_t start = clock.now;
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), tlsgen::kHandshakeDeadlineExpired);
  EXPECT_LE(clock.now - start, 6000u + 2500u);  // at most one transport call past the deadline
  EXPECT_GT(transport.inbox.size(), 190u);       // not 200 reads (500 s) later
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), tlsgen::kHandshakeDeadlineExpired);  // sticky
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

TEST_F(SslStack, HandshakeDeadline_SpansRetries) {
  // Non-blocking: connect() returns kWouldBlock many times; the deadline counts from the first call.
  FakeClock clock;
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE(tls.set_deadlines(sock.value(), &clock, 3000, 0).ok());
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
  clock.now += 2000;
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
  clock.now += 1000;
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), tlsgen::kHandshakeDeadlineExpired);
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
// A TLS 1.3 ServerHello whose key_share is empty: mbedTLS's TLS 1.3 parser pends a fatal alert
// (MBEDTLS_SSL_PEND_FATAL_ALERT), which it sends from its next handshake step. Then a second record
// that must never be read: the handshake is over once it failed.
std::vector<std::byte> bad_tls13_server_hello() {
  static const unsigned char kRecords[] = {
      0x16, 0x03, 0x03, 0x00, 0x38, 0x02, 0x00, 0x00, 0x34, 0x03, 0x03,                    // record, ServerHello
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,  // random
      24, 25, 26, 27, 28, 29, 30, 31, 0x00, 0x13, 0x01, 0x00, 0x00, 0x0c,                   // id, suite, ext
      0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,                                                   // supported_versions
      0x00, 0x33, 0x00, 0x02, 0x00, 0x00,                                                   // key_share: empty
      0x16, 0x03, 0x03, 0x00, 0x04, 0x0b, 0x00, 0x00, 0x00};                                // never read
  const auto* p = reinterpret_cast<const std::byte*>(kRecords);
  return std::vector<std::byte>(p, p + sizeof kRecords);
}

// The failure the bad ServerHello gives over a transport that takes every write at once.
Status reference_failure(tlsgen::SslConfig& config) {
  ScriptedTransport plain;
  plain.inbox = bad_tls13_server_hello();
  plain.read_result = Status(Code::kClosed);
  std::array<tlsgen::SslSession, 1> slot;
  tlsgen::SslTcpStack tls(config, plain, slot);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  const Status st = tls.connect(sock.value(), "peer.example", 443);
  (void)tls.close(sock.value());
  return st;
}

// Found by fuzz_tls_record: mbedTLS 3.6 flushes an interrupted alert record at the start of its next
// handshake step and then sends the alert again, so a transport that takes only every other write
// kept connect() returning kWouldBlock forever. The handshake has failed: it must say so.
TEST_F(SslStack, FatalAlertBehindEveryOtherWriteBlocking_FailsInsteadOfLooping) {
  const Status expected = reference_failure(config);
  ASSERT_EQ(expected.code(), Code::kTls);
  transport.inbox = bad_tls13_server_hello();
  transport.read_result = Status(Code::kWouldBlock);
  transport.write_interruption = Status(Code::kWouldBlock);
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(sock.ok());
  Status st;
  int calls = 0;
  do {
    st = tls.connect(sock.value(), "peer.example", 443);
  } while (st.code() == Code::kWouldBlock && ++calls < 100);
  EXPECT_EQ(st, expected) << "after " << calls << " calls";
  EXPECT_EQ(transport.inbox.size(), 9u);  // the record after the ServerHello was not read
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), st);  // sticky
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

// The same with a blocking transport that times out on every other write: mbedTLS forgot the failure
// after the timeout (it clears a pending alert on any result but WANT_WRITE) and went on with the
// handshake, reading the next record, as if it had not just sent the server a fatal alert.
TEST_F(SslStack, FatalAlertBehindEveryOtherWriteTimingOut_FailsWithItsOwnReason) {
  const Status expected = reference_failure(config);
  ASSERT_EQ(expected.code(), Code::kTls);
  transport.inbox = bad_tls13_server_hello();
  transport.read_result = Status(Code::kClosed);
  transport.write_interruption = Status(Code::kTimeout);
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  Status st;
  int calls = 0;
  do {
    st = tls.connect(sock.value(), "peer.example", 443);
  } while (st.code() == Code::kTimeout && ++calls < 100);
  EXPECT_EQ(st, expected) << "after " << calls << " calls";
  EXPECT_EQ(transport.inbox.size(), 9u);  // the handshake did not go on after the fatal alert
  EXPECT_TRUE(tls.close(sock.value()).ok());
}
#endif

TEST_F(SslStack, TransportIoError_RecvFailedWithTransportDetail) {
  transport.read_result = Status(Code::kIo, 5);
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), Status::Tls(MBEDTLS_ERR_NET_RECV_FAILED));
  EXPECT_EQ(tls.transport_status(sock.value()), Status(Code::kIo, 5));
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

TEST_F(SslStack, GarbageFromPeer_TlsErrorNoCrash) {
  const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
  transport.inbox.assign(reinterpret_cast<const std::byte*>(junk), reinterpret_cast<const std::byte*>(junk) + sizeof junk - 1);
  transport.read_result = Status(Code::kClosed);
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  const Status st = tls.connect(sock.value(), "peer.example", 443);
  EXPECT_EQ(st.code(), Code::kTls);
  EXPECT_LT(st.detail(), 0);
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

TEST_F(SslStack, TransportConnectRefused_PropagatedAndSticky) {
  transport.connect_result = Status(Code::kUnavailable, 111);
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), Status(Code::kUnavailable, 111));
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443), Status(Code::kUnavailable, 111));
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_TRUE(tls.close(sock.value()).ok());
}

TEST_F(SslStack, Handles_SlotsExhaustedAndUnknownHandles) {
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto a = tls.open(tlsgen::Mode::kBlocking);
  const auto b = tls.open(tlsgen::Mode::kNonBlocking);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a.value(), b.value());
  EXPECT_EQ(tls.open(tlsgen::Mode::kBlocking).status().code(), Code::kResourceExhausted);
  EXPECT_EQ(transport.open_sockets, 2);
  EXPECT_EQ(tls.open_count(), 2U);
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(tls.write(a.value(), bytes("x")).status.code(), Code::kFailedPrecondition);  // not connected
  EXPECT_EQ(tls.read(a.value(), buf).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(tls.connect(a.value(), nullptr, 443).code(), Code::kInvalidArgument);
  EXPECT_EQ(tls.verify_result(a.value()), 0xFFFFFFFFU);
  EXPECT_STREQ(tls.ciphersuite(a.value()), "?");
  EXPECT_TRUE(tls.close(a.value()).ok());
  EXPECT_EQ(tls.close(a.value()).code(), Code::kInvalidArgument);
  EXPECT_EQ(tls.read(a.value(), buf).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(tls.write(7, bytes("x")).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(tls.connect(-1, "h", 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(tls.native(a.value()), nullptr);
  EXPECT_TRUE(tls.close(b.value()).ok());
  EXPECT_EQ(transport.open_sockets, 0);
}

TEST_F(SslStack, Destructor_ClosesSessionsAndFreesTheirMemory) {
  const std::size_t before = heap_in_use();
  {
    tlsgen::SslTcpStack tls(config, transport, sessions);
    const auto sock = tls.open(tlsgen::Mode::kNonBlocking);
    ASSERT_TRUE(sock.ok());
    EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443).code(), Code::kWouldBlock);
    EXPECT_GT(heap_in_use(), before + profile::kInContentLen);  // record buffers are on the heap
  }
  EXPECT_EQ(transport.open_sockets, 0);
  EXPECT_EQ(heap_in_use(), before);
}

TEST_F(SslStack, HeapExhausted_AllocFailedNoCrashAndAllReturned) {
  // Take all but a little of the heap, so the session's record buffers cannot be allocated.
  std::vector<void*> hog;
  for (std::size_t block = 4096; block >= 64; block /= 2) {
    while (void* p = mbedtls_calloc(1, block)) hog.push_back(p);
  }
  ASSERT_FALSE(hog.empty());
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const auto sock = tls.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(sock.ok());
  // Out of heap is kResourceExhausted, carrying mbedTLS's code.
  EXPECT_EQ(tls.connect(sock.value(), "peer.example", 443),
            Status(Code::kResourceExhausted, MBEDTLS_ERR_SSL_ALLOC_FAILED));
  EXPECT_TRUE(tls.close(sock.value()).ok());
  for (void* p : hog) mbedtls_free(p);
}

}  // namespace
