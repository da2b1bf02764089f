// SslConfig::end_of_session() with an RSA device key (host-mtls-rsa): mbedTLS's RSA context keeps what its first
// private-key operation builds (the blinding pair Vi/Vf, the Montgomery constants RN/RP/RQ); kept between sessions,
// those blocks sit where the first handshake put them, at its top of the heap, and split the heap under the next
// session's record buffers (sweep m10114-0058 ran out of heap in its resumed session). end_of_session() frees them,
// and the next signature builds them again and still verifies.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "tlsgen/glue.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen_profile.hpp"

namespace {

// A self-signed RSA-2048 test certificate (CN=tlsgen-rsa-device) and its key (test material only).
constexpr char kRsaCertPem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDGTCCAgGgAwIBAgIUMFyDBGKwTHeykKly51Bk2VsyKAUwDQYJKoZIhvcNAQEL\n"
    "BQAwHDEaMBgGA1UEAwwRdGxzZ2VuLXJzYS1kZXZpY2UwHhcNMjYxMjA1MDUzMTQw\n"
    "WhcNMzYxMjAyMDUzMTQwWjAcMRowGAYDVQQDDBF0bHNnZW4tcnNhLWRldmljZTCC\n"
    "ASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAJmx42CADZdwwCHK3Ktxzn4v\n"
    "qa+QkZZzToqqbzHD2g0PowuElkJaZqgQG8p1uSaLnt09aFYyIoTdtMAjrb17S/LY\n"
    "HvdXZwSk+hEHgJL2fE1+qv+DXrcXnR1G/OFlx9AQxYJmpIHdW09sbGOo9pad0qaI\n"
    "Z8pA9q+nIxyaRMGQxBRU7bDh/gWLi+fIVxg9RBEb2qbsiwk9vHu3SuOZE3X7SwjV\n"
    "gSKLocDBHvSfOH0wEPNfIv5RIqA1fkmF6pifU6yMinJOasNwalA6/vs8P4l6HZF+\n"
    "yX82ba4X18keMbCrL+QIDfRwEAQfQ6KEJZgxRuZvj2MryO9j9qhMxfgKgSAf2dkC\n"
    "AwEAAaNTMFEwHQYDVR0OBBYEFGv54YSh+lrinNGVv698zgQ2u1dRMB8GA1UdIwQY\n"
    "MBaAFGv54YSh+lrinNGVv698zgQ2u1dRMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZI\n"
    "hvcNAQELBQADggEBABwN99WlruYccEVYbYUAsDulFMXHScXu6zSJqb5cTI9PXCNe\n"
    "znqb+dR1yCFslFyZ5VQBBtw4HrV65BQjNB3eMKkXJsLbBdl7uMCpB0MBFV7O29Ic\n"
    "PniTYbp31gyLUQ5ZDhtnudjTpipc+4JaHY61aw2lWL8dpuWK/928Q+Fpm2cacdUE\n"
    "A233uV5qsSvP/JGQ1pZKFCD6uzulS3Fz1QEGJSe8QhAiRB+jwE9dnIlkaC7ZgkDq\n"
    "QAkR5rqqq1yDrB1/nzTW5+ngmV48mLU/gWeM9Nf/0apqc0IjdDXFM8KfF1FnGBAF\n"
    "B/KDa80/6DLvuJWTVs+X/B9WtiEu1sqz7ElBbss=\n"
    "-----END CERTIFICATE-----\n";
constexpr char kRsaKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCZseNggA2XcMAh\n"
    "ytyrcc5+L6mvkJGWc06Kqm8xw9oND6MLhJZCWmaoEBvKdbkmi57dPWhWMiKE3bTA\n"
    "I629e0vy2B73V2cEpPoRB4CS9nxNfqr/g163F50dRvzhZcfQEMWCZqSB3VtPbGxj\n"
    "qPaWndKmiGfKQPavpyMcmkTBkMQUVO2w4f4Fi4vnyFcYPUQRG9qm7IsJPbx7t0rj\n"
    "mRN1+0sI1YEii6HAwR70nzh9MBDzXyL+USKgNX5JheqYn1OsjIpyTmrDcGpQOv77\n"
    "PD+Jeh2Rfsl/Nm2uF9fJHjGwqy/kCA30cBAEH0OihCWYMUbmb49jK8jvY/aoTMX4\n"
    "CoEgH9nZAgMBAAECggEADDSUxoKU0bx5/ZUDHjhc+idl1dPow+ZnS9rKFs0jYVsn\n"
    "CxCd8CoGsf0Jf/QGXpnC5XXtdb7of92tb37F2uDSQLhKCUFvJG7Hjxel7cXWTD8t\n"
    "bDouCOM+rmcHSQ0Qp6TVUow9LzT5fd6x4t41qvNgmaoGeAjdrkhbIPfdUvPgpm6S\n"
    "p/jdyWD/Tro7mrdFFTbu3wRX0NLT+4cYL4OrAeeh3pCo7ltnm6k2cWDIVDaBjCin\n"
    "qvHYxNDujfIjYp1lRfnev6hQSLp3TTHCDYxU9ABccTJ5c0dTZMo5FON46YeoRt9A\n"
    "srw4NduPTYLRsHoU64C36YpXK/TG5yMZQZLQo2J+wwKBgQDLUntj/MALXw4PbqWV\n"
    "Ptt5gRK8zDq3f0ZF9sKJp5xPO2WOb1vupGGlJEAK8JHyA39kEGthqq2qiJheorkR\n"
    "92a3JrofyZKEMClwkk9C8zgxlDFGcwqsH5s9tzgbaNeC/10QV7sodkh/urlVgN8o\n"
    "Ff7kzPFtRgvjjmbyZw4YwwHtQwKBgQDBg9T3oJ/8Z01isaQWlaac6fps9eDqwFRn\n"
    "4u8Ou9H43beXQhxYhwvgGKrYAt/Mg5nPCJTUIm315XDQUdfNA9E16o1vGktKwaYd\n"
    "+aSheVgPLkYTxXlRQRVWZ/NtRRGjLVeQY+xEvMBNjh27+7AyqFIAbp54X3D4hOgY\n"
    "JpzsRtP8swKBgBhDjqAfEJgKzvW+gZou9ygn5CGNydAOK0e8K/kbfIbkErmNxo3T\n"
    "Jif8DHyBuxkDm9dIMlhkcvcv9+cLSkS/no1q3LlgZ9DIoplhjH3z4pfgFIVQw0xJ\n"
    "NVCHJfX3bAihCu0hWx94BizgDrAKghcZkOKjJoig3FharSRucfs4gmlbAoGAeRPw\n"
    "M0O39if4XlEBdvQJfFJVUsmBAcB2z01I//H6TXkEPsqpi6ZrgrpMYr1ho8ePe99F\n"
    "p3knTdxR+rXKjUbfJpnsBmDwTQTe2BBztmiC9XShegtrfbB4FkkSIQM/Jtbe28P5\n"
    "d4SV2bCa4Bx5QSjZrdWIp44n1AbsZPf75UXnq0sCgYAPa7fT1peg4C9MP4+V1+zQ\n"
    "49bClohmg7gJHCXiHQ7wVpmpAMJEPbk2gP0Q+Aeh7okn68p6KO6LBZVd3L+zuYZE\n"
    "UA5VpsLNwGhGV1oKTDI/qCa9m5pR3YY4PoWq8LTsp9uFx2LKkdu5hYuAKOwcSQY8\n"
    "nBE07lTRvym28+W7+oxO/A==\n"
    "-----END PRIVATE KEY-----\n";

std::size_t heap_in_use() { return tlsgen::glue::heap().stats().in_use; }

struct KeyCert {
  mbedtls_x509_crt* cert;
  mbedtls_pk_context* key;
  void* next;
};

class RsaKey : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(heap_in_use(), 0U);
    ASSERT_TRUE(platform.setup().ok());
    ASSERT_TRUE(platform.seed_rng().ok());
    ASSERT_TRUE(platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kProfile, config).ok());
    ASSERT_TRUE(config.client_certificate(kRsaCertPem, kRsaKeyPem).ok());
    // The key mbedTLS signs CertificateVerify with: the configuration's own (certificate, key) pair, a
    // struct mbedtls_ssl_key_cert (library/ssl_misc.h, mbedTLS 3.6: cert, key, next), read through its layout.
    const auto* pair = reinterpret_cast<const KeyCert*>(config.native()->MBEDTLS_PRIVATE(key_cert));
    ASSERT_NE(pair, nullptr);
    key = pair->key;
    ASSERT_EQ(mbedtls_pk_get_type(key), MBEDTLS_PK_RSA);
  }
  void TearDown() override {
    config.deinit();
    EXPECT_TRUE(platform.deinit().ok());
    EXPECT_EQ(heap_in_use(), 0U);
  }

  // Signs a digest with the device key, as CertificateVerify does, and verifies it with the certificate's key.
  void sign_and_verify(std::uint8_t seed) {
    std::array<unsigned char, 32> hash{};
    hash.fill(seed);
    std::array<unsigned char, MBEDTLS_PK_SIGNATURE_MAX_SIZE> sig{};
    std::size_t len = 0;
    ASSERT_EQ(mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash.data(), hash.size(), sig.data(), sig.size(), &len,
                              mbedtls_ctr_drbg_random, platform.drbg()),
              0);
    EXPECT_EQ(len, 256U);
    // Verified with the certificate's key parsed here and freed again (an RSA context keeps R^2 mod N after its
    // first public-key operation too: the configuration's own copy of the certificate must not get one).
    mbedtls_x509_crt cert;
    mbedtls_x509_crt_init(&cert);
    ASSERT_EQ(mbedtls_x509_crt_parse(&cert, reinterpret_cast<const unsigned char*>(kRsaCertPem), sizeof kRsaCertPem), 0);
    EXPECT_EQ(mbedtls_pk_verify(&cert.pk, MBEDTLS_MD_SHA256, hash.data(), hash.size(), sig.data(), len), 0);
    mbedtls_x509_crt_free(&cert);
  }

  tlsgen::SslPlatform platform;
  tlsgen::SslConfig config;
  mbedtls_pk_context* key = nullptr;
};

TEST_F(RsaKey, EndOfSession_FreesWhatTheFirstSignatureBuilt_AndTheNextSignatureStillVerifies) {
  const std::size_t configured = heap_in_use();
  sign_and_verify(0x11);
  const std::size_t after_sign = heap_in_use();
  const mbedtls_rsa_context* rsa = mbedtls_pk_rsa(*key);
  // What the private-key operation kept (each at least the size of a number mod P or N: 128 or 256 bytes).
  EXPECT_NE(rsa->MBEDTLS_PRIVATE(Vi).MBEDTLS_PRIVATE(p), nullptr);
  EXPECT_NE(rsa->MBEDTLS_PRIVATE(RN).MBEDTLS_PRIVATE(p), nullptr);
  EXPECT_GE(after_sign, configured + 2 * 256 + 2 * 128);

  config.end_of_session();
  EXPECT_EQ(heap_in_use(), configured);
  EXPECT_EQ(rsa->MBEDTLS_PRIVATE(Vi).MBEDTLS_PRIVATE(p), nullptr);
  EXPECT_EQ(rsa->MBEDTLS_PRIVATE(Vf).MBEDTLS_PRIVATE(p), nullptr);
  EXPECT_EQ(rsa->MBEDTLS_PRIVATE(RN).MBEDTLS_PRIVATE(p), nullptr);
  EXPECT_EQ(rsa->MBEDTLS_PRIVATE(RP).MBEDTLS_PRIVATE(p), nullptr);
  EXPECT_EQ(rsa->MBEDTLS_PRIVATE(RQ).MBEDTLS_PRIVATE(p), nullptr);

  // Built again by the next signature (new blinding values), which verifies; the same bytes as the first time.
  sign_and_verify(0x22);
  EXPECT_EQ(heap_in_use(), after_sign);
  config.end_of_session();
  EXPECT_EQ(heap_in_use(), configured);
  config.end_of_session();  // nothing left to free: a no-op
  EXPECT_EQ(heap_in_use(), configured);
}

}  // namespace
