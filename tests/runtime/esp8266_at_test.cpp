#include "tlsgen/esp8266_at.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace {

using tlsgen::Code;
using tlsgen::Esp8266AtStack;

// A scripted modem: each command the driver sends (a line ending in \r\n, or the n data bytes after
// a CIPSEND prompt) is answered by the handler; bytes can also be injected at any time. Time
// advances by 1 ms per idle() call, so timeouts are reached quickly and deterministically.
class FakeModem final : public tlsgen::Uart {
 public:
  std::function<std::string(const std::string&)> on_command;
  std::string to_driver;       // bytes the driver will read
  std::string from_driver;     // everything the driver wrote
  std::vector<std::string> commands;
  std::size_t read_chunk = 64; // at most this many bytes per read() (1: byte by byte)
  std::size_t data_mode = 0;   // bytes of CIPSEND payload still expected
  std::string payload;
  std::uint32_t now = 0;

  std::size_t write(std::span<const std::byte> data) override {
    for (std::byte b : data) {
      const char c = static_cast<char>(b);
      from_driver += c;
      if (data_mode > 0) {
        payload += c;
        if (--data_mode == 0) to_driver += on_command("<data:" + payload + ">");
        continue;
      }
      line_ += c;
      if (line_.size() >= 2 && line_.compare(line_.size() - 2, 2, "\r\n") == 0) {
        const std::string cmd = line_.substr(0, line_.size() - 2);
        line_.clear();
        commands.push_back(cmd);
        to_driver += on_command(cmd);
        if (cmd.rfind("AT+CIPSEND=", 0) == 0 && to_driver.find('>') != std::string::npos) {
          data_mode = std::stoul(cmd.substr(cmd.find(',') + 1));
          payload.clear();
        }
      }
    }
    return data.size();
  }
  std::size_t read(std::span<std::byte> buffer) override {
    std::size_t n = 0;
    while (n < buffer.size() && n < read_chunk && !to_driver.empty()) {
      buffer[n++] = static_cast<std::byte>(to_driver.front());
      to_driver.erase(0, 1);
    }
    return n;
  }
  std::uint32_t now_ms() override { return now; }
  void idle() override { ++now; }

 private:
  std::string line_;
};

std::string standard(const std::string& cmd) {
  if (cmd == "AT" || cmd == "ATE0" || cmd == "AT+CIPMUX=1") return "\r\nOK\r\n";
  if (cmd.rfind("AT+CIPSTART=0,\"TCP\",\"127.0.0.1\",", 0) == 0) return "0,CONNECT\r\n\r\nOK\r\n";
  if (cmd.rfind("AT+CIPSEND=0,", 0) == 0) return "\r\nOK\r\n> ";
  if (cmd.rfind("<data:", 0) == 0) return "\r\nRecv bytes\r\n\r\nSEND OK\r\n";
  if (cmd == "AT+CIPCLOSE=0") return "0,CLOSED\r\n\r\nOK\r\n";
  return "\r\nERROR\r\n";
}

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string read_all(Esp8266AtStack& stack, tlsgen::Socket s, std::size_t n) {
  std::string out;
  std::byte buf[64];
  while (out.size() < n) {
    const auto r = stack.read(s, buf);
    if (!r.ok()) break;
    out.append(reinterpret_cast<const char*>(buf), r.size);
  }
  return out;
}

struct Fixture {
  FakeModem modem;
  std::byte storage[512];
  Esp8266AtStack stack{modem, storage, 1, {100, 100, 100}};
  tlsgen::Socket s = -1;
  Fixture() { modem.on_command = standard; }
  void connect(tlsgen::Mode mode = tlsgen::Mode::kBlocking) {
    ASSERT_TRUE(stack.init().ok());
    auto r = stack.open(mode);
    ASSERT_TRUE(r.ok());
    s = r.value();
    ASSERT_TRUE(stack.connect(s, "127.0.0.1", 4433).ok());
  }
};

TEST(Esp8266, HappyPath_ConnectWriteReadClose) {
  Fixture f;
  f.connect();
  EXPECT_EQ(f.modem.commands[0], "AT");
  EXPECT_EQ(f.modem.commands[2], "AT+CIPMUX=1");
  EXPECT_EQ(f.modem.commands[3], "AT+CIPSTART=0,\"TCP\",\"127.0.0.1\",4433");
  const auto w = f.stack.write(f.s, bytes("hello"));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size, 5u);
  EXPECT_EQ(f.modem.payload, "hello");
  f.modem.to_driver += "\r\n+IPD,0,5:world";
  EXPECT_EQ(read_all(f.stack, f.s, 5), "world");
  EXPECT_TRUE(f.stack.close(f.s).ok());
  EXPECT_EQ(f.modem.commands.back(), "AT+CIPCLOSE=0");
  EXPECT_EQ(f.stack.open_count(), 0u);
}

TEST(Esp8266, LargeWrite_IsSplitAt2048) {
  Fixture f;
  f.connect();
  const std::string big(5000, 'x');
  const auto w = f.stack.write(f.s, bytes(big));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size, 2048u);
  EXPECT_EQ(f.modem.commands.back(), "AT+CIPSEND=0,2048");
  EXPECT_EQ(f.modem.payload.size(), 2048u);
}

TEST(Esp8266, SendFail_ReturnsIo) {
  Fixture f;
  f.connect();
  f.modem.on_command = [](const std::string& c) {
    return c.rfind("<data:", 0) == 0 ? std::string("\r\nSEND FAIL\r\n") : standard(c);
  };
  const auto w = f.stack.write(f.s, bytes("x"));
  EXPECT_EQ(w.status.code(), Code::kIo);
  EXPECT_EQ(w.status.detail(), 1);
}

TEST(Esp8266, CipsendError_ReturnsIo) {
  Fixture f;
  f.connect();
  f.modem.on_command = [](const std::string& c) {
    return c.rfind("AT+CIPSEND", 0) == 0 ? std::string("\r\nERROR\r\n") : standard(c);
  };
  EXPECT_EQ(f.stack.write(f.s, bytes("x")).status.code(), Code::kIo);
}

TEST(Esp8266, ConnectError_IsUnavailable) {
  Fixture f;
  ASSERT_TRUE(f.stack.init().ok());
  auto r = f.stack.open(tlsgen::Mode::kBlocking);
  EXPECT_EQ(f.stack.connect(r.value(), "10.0.0.1", 443).code(), Code::kUnavailable);
}

TEST(Esp8266, SilentModem_TimesOut) {
  Fixture f;
  f.modem.on_command = [](const std::string&) { return std::string(); };
  EXPECT_EQ(f.stack.init().code(), Code::kTimeout);
  EXPECT_GE(f.modem.now, 100u);
}

TEST(Esp8266, IpdSplitByteByByte_IsReassembled) {
  Fixture f;
  f.connect();
  f.modem.read_chunk = 1;
  f.modem.to_driver += "\r\n+IPD,0,11:hello world";
  EXPECT_EQ(read_all(f.stack, f.s, 11), "hello world");
}

TEST(Esp8266, SeveralIpdInOneRead_AllDelivered) {
  Fixture f;
  f.connect();
  f.modem.to_driver += "\r\n+IPD,0,3:abc\r\n+IPD,0,3:def+IPD,0,2:gh";
  EXPECT_EQ(read_all(f.stack, f.s, 8), "abcdefgh");
}

TEST(Esp8266, IpdForAnotherLink_IsDiscarded) {
  Fixture f;
  f.connect();
  f.modem.to_driver += "\r\n+IPD,3,4:nope\r\n+IPD,0,3:yes";
  EXPECT_EQ(read_all(f.stack, f.s, 3), "yes");
}

TEST(Esp8266, GarbageLines_AreIgnored) {
  Fixture f;
  f.modem.on_command = [](const std::string& c) { return "\r\nWIFI GOT IP\r\n\xff\xfe junk\r\n+IPD,x,y:\r\n" + standard(c); };
  f.connect();
  f.modem.to_driver += "\r\nbusy p...\r\n+IPD,0,2:ok";
  EXPECT_EQ(read_all(f.stack, f.s, 2), "ok");
}

TEST(Esp8266, MalformedIpdHeaderWithoutLength_IsDropped) {
  Fixture f;
  f.connect();
  // No length to trust: the header line is dropped (a zero length announces no payload).
  f.modem.to_driver += "\r\n+IPD,0,0:\r\n+IPD,x,y:\r\n+IPD,0,:\r\n+IPD,0,2:ok";
  EXPECT_EQ(read_all(f.stack, f.s, 2), "ok");
}

// ---- issue 12: +IPD headers the parser refuses, the AT+CIPDINFO=1 form, large frames ----------

TEST(Esp8266, Ipd_CipdinfoForm_Accepted) {
  Fixture f;
  f.connect();
  // AT+CIPDINFO=1: the remote address and port before the colon (ESP8266 NonOS unquoted, ESP32 AT quoted,
  // IPv6 literals carry colons of their own inside the quotes).
  f.modem.to_driver += "\r\n+IPD,0,5,192.168.1.10,443:hello\r\n+IPD,0,6,\"10.0.0.2\",8883: world"
                       "\r\n+IPD,0,1,\"fe80::1:2\",443:!";
  EXPECT_EQ(read_all(f.stack, f.s, 12), "hello world!");
}

TEST(Esp8266, Ipd_LargeFrame5760_DeliveredWholeThroughSmallRing) {
  Fixture f;
  f.connect();
  std::string data(5760, '\0');  // the largest frame Espressif's ESP32 AT firmware sends
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  f.modem.to_driver += "\r\n+IPD,0,5760:" + data + "\r\n+IPD,0,3,\"10.0.0.2\",443:end";
  EXPECT_EQ(read_all(f.stack, f.s, 5763), data + "end");
}

TEST(Esp8266, Ipd_RefusedHeader_PayloadIsDrainedNeverParsedAsLines) {
  FakeModem modem;
  modem.on_command = standard;
  std::byte storage[1024];
  Esp8266AtStack stack(modem, storage, 2, {100, 100, 100});
  ASSERT_TRUE(stack.init().ok());
  const auto a = stack.open(tlsgen::Mode::kBlocking);
  const auto b = stack.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(a.ok() && b.ok());
  modem.on_command = [](const std::string& c) {
    if (c.rfind("AT+CIPSTART=1,", 0) == 0) return std::string("1,CONNECT\r\n\r\nOK\r\n");
    return standard(c);
  };
  ASSERT_TRUE(stack.connect(a.value(), "127.0.0.1", 4433).ok());
  ASSERT_TRUE(stack.connect(b.value(), "127.0.0.1", 4434).ok());
  // The remote peer of link 0 controls these payloads: modem events inside them must stay data.
  const std::string evil = "\r\n1,CLOSED\r\n+IPD,1,4:evil\r\nSEND OK\r\n";
  std::string big = evil + std::string(9000 - evil.size(), 'p');  // above the largest frame accepted
  std::string odd = evil + "zz";                                   // a form the parser does not know
  modem.to_driver += "\r\n+IPD,0,9000:" + big + "\r\n+IPD,0," + std::to_string(odd.size()) + ",x y:" + odd +
                     "\r\n+IPD,1,3:yes";
  EXPECT_EQ(read_all(stack, b.value(), 3), "yes");  // link 1 got only its own frame, and is still open
  std::byte buf[8];
  EXPECT_EQ(stack.read(b.value(), buf).status.code(), Code::kTimeout);
  // Link 0 lost data it can never get back: said so, not silently skipped.
  EXPECT_EQ(stack.read(a.value(), buf).status.code(), Code::kDataLoss);
}

// ---- issue 12: host names go into an AT command -----------------------------------------------

TEST(Esp8266, Connect_HostOutsideHostNameGrammar_RefusedNothingWritten) {
  const char* const bad[] = {"1.2.3.4\",80\r\nAT+RST\r\n", "", "a\"b", "a\rb", "a\nb", "a b", "a,b", "a;b",
                             "\x80host", "host\x7f", ".example", "example..com", "-host.example", "host-.example",
                             "a\tb"};
  for (const char* host : bad) {
    Fixture f;
    ASSERT_TRUE(f.stack.init().ok());
    auto r = f.stack.open(tlsgen::Mode::kBlocking);
    ASSERT_TRUE(r.ok());
    const std::string before = f.modem.from_driver;
    EXPECT_EQ(f.stack.connect(r.value(), host, 1).code(), Code::kInvalidArgument) << host;
    EXPECT_EQ(f.modem.from_driver, before) << host;  // not a byte to the UART
  }
  Fixture f;
  ASSERT_TRUE(f.stack.init().ok());
  auto r = f.stack.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.stack.connect(r.value(), std::string(300, 'a').c_str(), 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.stack.connect(r.value(), (std::string(64, 'a') + ".example").c_str(), 1).code(),
            Code::kInvalidArgument);  // a label is at most 63 characters
}

TEST(Esp8266, Connect_HostNamesAndAddresses_Accepted) {
  for (const char* host : {"example.com", "10.0.0.1", "my-host.local", "localhost", "a1.b-2.example.", "127.0.0.1"}) {
    Fixture f;
    f.modem.on_command = [](const std::string& c) {
      return c.rfind("AT+CIPSTART=0,", 0) == 0 ? std::string("0,CONNECT\r\n\r\nOK\r\n") : standard(c);
    };
    ASSERT_TRUE(f.stack.init().ok());
    auto r = f.stack.open(tlsgen::Mode::kBlocking);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(f.stack.connect(r.value(), host, 443).ok()) << host;
    EXPECT_EQ(f.modem.commands.back(), std::string("AT+CIPSTART=0,\"TCP\",\"") + host + "\",443");
  }
}

// ---- issue 12: writes whose answer cannot come -------------------------------------------------

TEST(Esp8266, Write_PromptBehindFullRing_EndsPromptlyThenRetryCompletes) {
  Fixture f;
  f.connect();
  // The peer's 1,000 bytes arrive just before the modem's '>' prompt: the 512-byte ring takes half of
  // them, and the prompt stays behind the rest (nothing else reads the UART while write() waits).
  const std::string incoming(1000, 'i');
  f.modem.on_command = [&](const std::string& c) {
    if (c.rfind("AT+CIPSEND=0,", 0) == 0) return "\r\n+IPD,0,1000:" + incoming + "\r\nOK\r\n> ";
    return standard(c);
  };
  const std::uint32_t before = f.modem.now;
  const auto w = f.stack.write(f.s, bytes("hello"));
  EXPECT_EQ(w.status, tlsgen::Status(Code::kResourceExhausted, Esp8266AtStack::kRxBlockedDetail));
  EXPECT_EQ(w.size, 0u);
  EXPECT_LT(f.modem.now - before, 100u);  // not the 100 ms I/O timeout
  EXPECT_EQ(f.modem.payload, "");        // nothing sent before the prompt
  // The application reads, which lets the prompt through; the retry with the same bytes sends them once.
  EXPECT_EQ(read_all(f.stack, f.s, 1000), incoming);
  f.modem.on_command = standard;
  const auto again = f.stack.write(f.s, bytes("hello"));
  ASSERT_TRUE(again.ok()) << tlsgen::name(again.status.code());
  EXPECT_EQ(again.size, 5u);
  EXPECT_EQ(f.modem.payload, "hello");
  EXPECT_EQ(std::count(f.modem.commands.begin(), f.modem.commands.end(), "AT+CIPSEND=0,5"), 1);
  EXPECT_TRUE(f.stack.write(f.s, bytes("next")).ok());  // in step with the modem
  EXPECT_EQ(f.modem.payload, "next");
}

TEST(Esp8266, Write_SendOkBehindFullRing_ReturnsOnceDataHandedOver) {
  Fixture f;
  f.connect();
  const std::string incoming(1000, 'i');
  f.modem.on_command = [&](const std::string& c) {
    if (c.rfind("<data:", 0) == 0) return "\r\n+IPD,0,1000:" + incoming + "\r\nSEND OK\r\n";
    return standard(c);
  };
  const std::uint32_t before = f.modem.now;
  const auto w = f.stack.write(f.s, bytes("hello"));
  EXPECT_TRUE(w.ok());  // the modem has the bytes; its verdict is checked when it can be read
  EXPECT_EQ(w.size, 5u);
  EXPECT_LT(f.modem.now - before, 100u);
  EXPECT_EQ(read_all(f.stack, f.s, 1000), incoming);
  f.modem.on_command = standard;
  EXPECT_TRUE(f.stack.write(f.s, bytes("next")).ok());  // the late SEND OK was not taken for this one
  EXPECT_EQ(f.modem.payload, "next");
}

TEST(Esp8266, Write_SendFailBehindFullRing_ReportedOnTheNextCall) {
  Fixture f;
  f.connect();
  const std::string incoming(1000, 'i');
  f.modem.on_command = [&](const std::string& c) {
    if (c.rfind("<data:", 0) == 0) return "\r\n+IPD,0,1000:" + incoming + "\r\nSEND FAIL\r\n";
    return standard(c);
  };
  EXPECT_TRUE(f.stack.write(f.s, bytes("hello")).ok());
  EXPECT_EQ(read_all(f.stack, f.s, 1000), incoming);
  const auto next = f.stack.write(f.s, bytes("next"));
  EXPECT_EQ(next.status, tlsgen::Status(Code::kIo, Esp8266AtStack::kSendFailDetail));
  EXPECT_EQ(f.modem.payload, "hello");  // nothing more sent on a link with a hole in its stream
}

TEST(Esp8266, Write_RingAlreadyBlocked_ReturnsAtOnceWithoutACommand) {
  Fixture f;
  f.connect();
  f.modem.to_driver += "\r\n+IPD,0,1000:" + std::string(1000, 'i');
  std::byte first[16];
  ASSERT_TRUE(f.stack.read(f.s, first).ok());  // the ring is full now, the rest waits in the UART
  const std::size_t commands = f.modem.commands.size();
  const auto w = f.stack.write(f.s, bytes("hello"));
  EXPECT_EQ(w.status, tlsgen::Status(Code::kResourceExhausted, Esp8266AtStack::kRxBlockedDetail));
  EXPECT_EQ(f.modem.commands.size(), commands);
}

TEST(Esp8266, Write_ClosedInsteadOfSendOk_ReturnsClosedPromptly) {
  Fixture f;
  f.connect();
  f.modem.on_command = [](const std::string& c) {
    return c.rfind("<data:", 0) == 0 ? std::string("\r\n0,CLOSED\r\n") : standard(c);
  };
  const std::uint32_t before = f.modem.now;
  const auto w = f.stack.write(f.s, bytes("hello"));
  EXPECT_EQ(w.status.code(), Code::kClosed);
  EXPECT_LT(f.modem.now - before, 100u);
  EXPECT_EQ(f.stack.write(f.s, bytes("x")).status.code(), Code::kClosed);
  EXPECT_TRUE(f.stack.close(f.s).ok());
}

TEST(Esp8266, PeerClosed_DrainsThenClosed) {
  Fixture f;
  f.connect();
  f.modem.to_driver += "\r\n+IPD,0,4:last0,CLOSED\r\n";
  EXPECT_EQ(read_all(f.stack, f.s, 4), "last");
  std::byte buf[8];
  EXPECT_EQ(f.stack.read(f.s, buf).status.code(), Code::kClosed);
  EXPECT_EQ(f.stack.write(f.s, bytes("x")).status.code(), Code::kClosed);
  EXPECT_TRUE(f.stack.close(f.s).ok());
}

TEST(Esp8266, NonBlockingRead_WouldBlock) {
  Fixture f;
  f.connect(tlsgen::Mode::kNonBlocking);
  std::byte buf[8];
  EXPECT_EQ(f.stack.read(f.s, buf).status.code(), Code::kWouldBlock);
  EXPECT_EQ(f.modem.now, 0u);  // did not wait
}

TEST(Esp8266, BlockingRead_TimesOut) {
  Fixture f;
  f.connect();
  std::byte buf[8];
  EXPECT_EQ(f.stack.read(f.s, buf).status.code(), Code::kTimeout);
}

TEST(Esp8266, FullRing_PushesBackInsteadOfLosingData) {
  Fixture f;
  f.connect();
  std::string data(1500, 'a');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  // 1500 bytes into a 512-byte ring: read in pieces, nothing lost.
  f.modem.to_driver += "\r\n+IPD,0,1000:" + data.substr(0, 1000) + "\r\n+IPD,0,500:" + data.substr(1000);
  EXPECT_EQ(read_all(f.stack, f.s, 1500), data);
}

TEST(Esp8266, CloseWithUnreadFramesQueued_DropsThemAndGetsTheAnswer) {
  Fixture f;
  f.connect();
  // The peer kept sending: 2,920 bytes the application will never read sit ahead of the modem's
  // answer to CIPCLOSE, more than the 512-byte ring holds (back-pressure). close() must drop them,
  // see "OK" and return at once, not after the 100 ms command timeout.
  f.modem.to_driver += "\r\n+IPD,0,1460:" + std::string(1460, 'x') + "\r\n+IPD,0,1460:" + std::string(1460, 'y');
  std::byte first[16];
  ASSERT_TRUE(f.stack.read(f.s, first).ok());  // the ring is full now
  const std::uint32_t before = f.modem.now;
  EXPECT_TRUE(f.stack.close(f.s).ok());
  EXPECT_LT(f.modem.now - before, 100u);
  EXPECT_EQ(f.modem.commands.back(), "AT+CIPCLOSE=0");
  EXPECT_EQ(f.stack.open_count(), 0u);
  // The link is reusable: a new connection reads only its own data.
  auto r = f.stack.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(f.stack.connect(r.value(), "127.0.0.1", 4433).ok());
  f.modem.to_driver += "\r\n+IPD,0,3:new";
  EXPECT_EQ(read_all(f.stack, r.value(), 3), "new");
}

TEST(Esp8266, NoFreeLink_ResourceExhausted) {
  Fixture f;
  ASSERT_TRUE(f.stack.open(tlsgen::Mode::kBlocking).ok());
  EXPECT_EQ(f.stack.open(tlsgen::Mode::kBlocking).status().code(), Code::kResourceExhausted);
}

TEST(Esp8266, UnknownSocket_InvalidArgument) {
  Fixture f;
  std::byte buf[4];
  EXPECT_EQ(f.stack.read(3, buf).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(f.stack.close(7).code(), Code::kInvalidArgument);
}

TEST(Esp8266, FeedArbitraryBytes_NeverWritesOutsideStorage) {
  FakeModem modem;
  std::byte storage[64 + 16];
  for (auto& b : storage) b = std::byte{0x5A};
  Esp8266AtStack stack(modem, std::span(storage).first(64));
  ASSERT_TRUE(stack.open(tlsgen::Mode::kNonBlocking).ok());
  std::string junk;
  for (int i = 0; i < 5000; ++i) junk += static_cast<char>((i * 7919) % 256);
  junk += "+IPD,0,70:" + std::string(70, 'z');
  stack.feed(bytes(junk));
  for (std::size_t i = 64; i < sizeof storage; ++i) EXPECT_EQ(storage[i], std::byte{0x5A});
}

// ---- UDP links (issue 15): one datagram per CIPSEND and per +IPD -----------------------------------

std::string udp_modem(const std::string& cmd) {
  if (cmd.rfind("AT+CIPSTART=0,\"UDP\",\"127.0.0.1\",", 0) == 0) return "0,CONNECT\r\n\r\nOK\r\n";
  return standard(cmd);
}

struct UdpFixture {
  FakeModem modem;
  std::byte storage[256];
  Esp8266AtStack stack{modem, storage, 1, {100, 100, 100}};
  tlsgen::Esp8266AtUdp udp{stack};
  tlsgen::Socket s = -1;
  UdpFixture() { modem.on_command = udp_modem; }
  void connect(tlsgen::Mode mode = tlsgen::Mode::kBlocking) {
    ASSERT_TRUE(stack.init().ok());
    auto r = udp.open(mode);
    ASSERT_TRUE(r.ok());
    s = r.value();
    ASSERT_TRUE(udp.connect(s, "127.0.0.1", 5684).ok());
  }
  std::string receive(std::size_t capacity = 200) {
    std::vector<std::byte> buf(capacity);
    const auto r = udp.receive(s, buf);
    if (!r.ok()) return "<" + std::string(tlsgen::name(r.status.code())) + ":" + std::to_string(r.status.detail()) + ">";
    return std::string(reinterpret_cast<const char*>(buf.data()), r.size);
  }
};

TEST(Esp8266Udp, DatagramsKeepTheirBoundaries) {
  UdpFixture f;
  f.connect();
  EXPECT_EQ(f.modem.commands[3], "AT+CIPSTART=0,\"UDP\",\"127.0.0.1\",5684");
  const auto w = f.udp.send(f.s, bytes("hello"));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size, 5u);
  EXPECT_EQ(f.modem.commands.back(), "AT+CIPSEND=0,5");
  EXPECT_EQ(f.modem.payload, "hello");
  f.modem.to_driver += "\r\n+IPD,0,3:abc\r\n+IPD,0,5,\"10.0.0.2\",5684:defgh\r\n+IPD,0,1:i";
  EXPECT_EQ(f.receive(), "abc");  // one datagram per receive, however much room the buffer has
  EXPECT_EQ(f.receive(), "defgh");
  EXPECT_EQ(f.receive(), "i");
  EXPECT_EQ(f.receive(), "<kTimeout:0>");
  EXPECT_TRUE(f.udp.close(f.s).ok());
  EXPECT_EQ(f.modem.commands.back(), "AT+CIPCLOSE=0");
  EXPECT_EQ(f.stack.open_count(), 0u);
}

TEST(Esp8266Udp, DatagramLargerThanTheBufferIsDroppedAndReported) {
  UdpFixture f;
  f.connect();
  f.modem.to_driver += "\r\n+IPD,0,10:0123456789\r\n+IPD,0,2:ok";
  EXPECT_EQ(f.receive(4), "<kResourceExhausted:10>");
  EXPECT_EQ(f.receive(4), "ok");  // the next one, whole
}

TEST(Esp8266Udp, DatagramThatCanNeverFitTheRingIsDrainedAndReported) {
  UdpFixture f;  // a 256-byte ring: a datagram takes its length + 2
  f.connect();
  const std::string big(300, 'B');
  f.modem.to_driver += "\r\n+IPD,0,300:" + big + "\r\n+IPD,0,4:next";
  EXPECT_EQ(f.receive(), "next");  // the payload never reached the parser as lines
  EXPECT_EQ(f.receive(), "<kResourceExhausted:300>");
  EXPECT_EQ(f.receive(), "<kTimeout:0>");
}

TEST(Esp8266Udp, FlowControlTakesADatagramOnlyWhenAllOfItFits) {
  UdpFixture f;
  f.connect(tlsgen::Mode::kNonBlocking);
  const std::string a(150, 'a');
  const std::string b(150, 'b');  // 152 + 152 > 256: b waits in the UART until a is read
  f.modem.to_driver += "\r\n+IPD,0,150:" + a + "\r\n+IPD,0,150:" + b;
  EXPECT_EQ(f.receive(), a);
  EXPECT_EQ(f.receive(), b);
  EXPECT_EQ(f.receive(), "<kWouldBlock:0>");
}

TEST(Esp8266Udp, APartlyReceivedDatagramIsNotTaken) {
  // The length prefix goes into the ring with the datagram's first byte; the rest follows as the UART brings it.
  // Found in QEMU (m4-dtls-psk-ccm8): receive() took the prefix and whatever the ring held after it, and its count
  // wrapped, so that every later call returned a datagram of stale bytes.
  UdpFixture f;
  f.connect(tlsgen::Mode::kNonBlocking);
  f.modem.read_chunk = 1;
  f.modem.to_driver += "\r\n+IPD,0,5:ab";
  EXPECT_EQ(f.receive(), "<kWouldBlock:0>");
  EXPECT_EQ(f.receive(), "<kWouldBlock:0>");
  f.modem.to_driver += "cde";
  EXPECT_EQ(f.receive(), "abcde");
  EXPECT_EQ(f.receive(), "<kWouldBlock:0>");
}

TEST(Esp8266Udp, ReceiveWithinWaitsItsOwnBoundWhateverTheMode) {
  UdpFixture f;
  f.connect(tlsgen::Mode::kNonBlocking);
  std::byte buf[16];
  const std::uint32_t t0 = f.modem.now;
  EXPECT_EQ(f.udp.receive_within(f.s, buf, 0).status.code(), Code::kTimeout);  // nothing there: at once
  EXPECT_EQ(f.udp.receive_within(f.s, buf, 30).status.code(), Code::kTimeout);
  EXPECT_GE(f.modem.now - t0, 30u);  // it waited (the fake clock moves on each idle())
  EXPECT_LT(f.modem.now - t0, 100u);  // and not the modem's own 100 ms I/O timeout
  f.modem.to_driver += "\r\n+IPD,0,2:hi";
  const auto r = f.udp.receive_within(f.s, buf, 30);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf), r.size), "hi");
}

TEST(Esp8266Udp, SendNeverSplitsOrSendsEmpty) {
  UdpFixture f;
  f.connect();
  const std::string big(Esp8266AtStack::kMaxSend + 1, 'x');
  EXPECT_EQ(f.udp.send(f.s, bytes(big)).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(f.udp.send(f.s, bytes("")).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(f.modem.commands.back(), "AT+CIPSTART=0,\"UDP\",\"127.0.0.1\",5684");  // nothing went out
  const std::string max(Esp8266AtStack::kMaxSend, 'y');
  const auto w = f.udp.send(f.s, bytes(max));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size, max.size());
  EXPECT_EQ(f.modem.payload, max);
}

TEST(Esp8266Udp, TcpAndUdpCallsKeepToTheirOwnLinks) {
  FakeModem modem;
  modem.on_command = udp_modem;
  std::byte storage[512];
  Esp8266AtStack stack(modem, storage, 2, {100, 100, 100});
  ASSERT_TRUE(stack.init().ok());
  tlsgen::Esp8266AtUdp udp(stack);
  const auto u = udp.open(tlsgen::Mode::kBlocking);
  const auto t = stack.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(u.ok() && t.ok());
  std::byte buf[8];
  EXPECT_EQ(stack.connect(u.value(), "127.0.0.1", 5684).code(), Code::kFailedPrecondition);
  EXPECT_EQ(stack.read(u.value(), buf).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(stack.write(u.value(), bytes("x")).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(udp.connect(t.value(), "127.0.0.1", 5684).code(), Code::kInvalidArgument);
  EXPECT_EQ(udp.receive(t.value(), buf).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(udp.send(u.value(), bytes("x")).status.code(), Code::kFailedPrecondition);  // not connected
  EXPECT_EQ(udp.receive(u.value(), buf).status.code(), Code::kFailedPrecondition);
  ASSERT_TRUE(udp.connect(u.value(), "127.0.0.1", 5684).ok());
  EXPECT_EQ(udp.connect(u.value(), "127.0.0.1", 5684).code(), Code::kFailedPrecondition);  // one peer
  EXPECT_EQ(udp.close(t.value()).code(), Code::kInvalidArgument);
  EXPECT_TRUE(udp.close(u.value()).ok());
  EXPECT_TRUE(stack.close(t.value()).ok());
  EXPECT_EQ(stack.open_count(), 0u);
}

TEST(Esp8266Udp, HostNameGrammarAppliesToUdpToo) {
  UdpFixture f;
  ASSERT_TRUE(f.stack.init().ok());
  const auto r = f.udp.open(tlsgen::Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  const std::size_t before = f.modem.from_driver.size();
  EXPECT_EQ(f.udp.connect(r.value(), "1.2.3.4\",80\r\nAT+RST\r\n", 5684).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.modem.from_driver.size(), before);
}

}  // namespace

