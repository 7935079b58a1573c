// SPDX-License-Identifier: MIT
// The record dumps in storage/FORMAT.md are what the encoder writes for the values they name.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "storage/checksum.hpp"
#include "storage/codec.hpp"
#include "test/testlib/record_bytes.hpp"

#ifndef DUROXIDE_SOURCE_ROOT
#error "test/storage/meson.build defines DUROXIDE_SOURCE_ROOT"
#endif

namespace duroxide::storage {
namespace {

using testlib::RecordBytes;

/// A record's bytes built field by field from the grammar, each field noted; rendered as the
/// annotated dumps of FORMAT.md: a field's bytes in hex, ten to a line, then "| " and the note.
class Dump {
 public:
  Dump& field(const RecordBytes& bytes, const std::string& note) {
    const std::string& raw = bytes.bytes();
    for (std::size_t at = 0; at == 0 || at < raw.size(); at += kPerLine) {
      std::string line;
      for (std::size_t i = at; i < raw.size() && i < at + kPerLine; ++i) {
        char hex[4];
        std::snprintf(hex, sizeof(hex), "%02x ", static_cast<unsigned char>(raw[i]));
        line += hex;
      }
      if (at == 0) {
        line.resize(kPerLine * 3, ' ');
        line += "| " + note;
      } else {
        line.pop_back();
      }
      text_ += line + "\n";
    }
    bytes_ += raw;
    return *this;
  }
  /// Appends the checksum field: the CRC-32C of every byte before it.
  Dump& crc() {
    const std::uint32_t checksum = crc32c(bytes_);
    char note[32];
    std::snprintf(note, sizeof(note), "crc32c = 0x%08x", checksum);
    return field(RecordBytes().u32(checksum), note);
  }
  const std::string& bytes() const { return bytes_; }
  const std::string& text() const { return text_; }

 private:
  static constexpr std::size_t kPerLine = 10;
  std::string bytes_;
  std::string text_;
};

// Appended, not "\"" + a temporary: that gets a false -Wrestrict from g++ 12 at -O3.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

RecordBytes str(std::string_view text) { return RecordBytes().vstr(text); }
RecordBytes uvar(std::uint64_t value) { return RecordBytes().uvar(value); }
RecordBytes svar(std::int64_t value) { return RecordBytes().svar(value); }
RecordBytes byte(std::uint8_t value) { return RecordBytes().u8(value); }
RecordBytes u32(std::uint32_t value) { return RecordBytes().u32(value); }

constexpr std::int64_t kNow = 1'700'000'000'000;  // 2023-11-14, in ms since the epoch

HistoryEvent example_event() {
  HistoryEvent e;
  e.event_id = 1;
  e.kind = EventKind::OrchestrationStarted;
  e.timestamp = kNow;
  e.name = "Hello";
  e.version = "1.0.0";
  e.data = "user-17";
  return e;
}

Dump event_dump() {
  Dump d;
  d.field(u32(4), "class_version = 4")
      .field(uvar(1), "event_id = 1")
      .field(byte(1), "kind = 1 (OrchestrationStarted)")
      .field(uvar(0), "source_id = 0")
      .field(svar(kNow), "timestamp = 1700000000000 (zigzag: 3400000000000)")
      .field(byte(0), "category = 0 (Application)")
      .field(str("Hello"), "name = " + quoted("Hello"))
      .field(str("1.0.0"), "version = " + quoted("1.0.0"))
      .field(str("user-17"), "data = " + quoted("user-17"))
      .field(str(""), "instance = \"\"");
  return d.crc();
}

OrchestratorMessage example_message() {
  OrchestratorMessage m;
  m.instance_id = "hello-17";
  m.execution_id = 1;
  m.kind = MessageKind::ActivityCompleted;
  m.source_id = 2;
  m.visible_at = kNow + 4;
  m.data = "Hello!";
  return m;
}

Dump message_dump() {
  Dump d;
  d.field(u32(4), "class_version = 4")
      .field(str("hello-17"), "instance_id = " + quoted("hello-17"))
      .field(uvar(1), "execution_id = 1")
      .field(byte(2), "kind = 2 (ActivityCompleted)")
      .field(uvar(2), "source_id = 2")
      .field(svar(kNow + 4), "visible_at = 1700000000004 (zigzag: 3400000000008)")
      .field(str(""), "name = \"\"")
      .field(str(""), "version = \"\"")
      .field(str("Hello!"), "data = " + quoted("Hello!"))
      .field(str(""), "parent_id = \"\"")
      .field(uvar(0), "parent_execution_id = 0");
  return d.crc();
}

ActivityWorkItem example_item() {
  return ActivityWorkItem{"hello-17", 1, "Hello", 2, "Greet", "user-17", 1};
}

Dump item_dump() {
  Dump d;
  d.field(u32(3), "class_version = 3")
      .field(str("hello-17"), "instance_id = " + quoted("hello-17"))
      .field(uvar(1), "execution_id = 1")
      .field(str("Hello"), "orchestration_name = " + quoted("Hello"))
      .field(uvar(2), "activity_id = 2")
      .field(str("Greet"), "name = " + quoted("Greet"))
      .field(str("user-17"), "input = " + quoted("user-17"))
      .field(uvar(1), "attempt = 1");
  return d.crc();
}

InstanceRecord example_record() {
  InstanceRecord r;
  r.instance_id = "hello-17";
  r.name = "Hello";
  r.version = "1.0.0";
  r.state = InstanceState::Failed;
  r.execution_id = 1;
  r.created_at = kNow;
  r.updated_at = kNow + 5;
  r.error = ErrorDetails(ErrorCategory::Application, "Error", "boom");
  r.custom_status = "step 2";
  return r;
}

Dump record_dump() {
  Dump d;
  d.field(u32(5), "class_version = 5")
      .field(str("hello-17"), "instance_id = " + quoted("hello-17"))
      .field(str("Hello"), "name = " + quoted("Hello"))
      .field(str("1.0.0"), "version = " + quoted("1.0.0"))
      .field(byte(3), "state = 3 (Failed)")
      .field(uvar(1), "execution_id = 1")
      .field(svar(kNow), "created_at = 1700000000000 (zigzag: 3400000000000)")
      .field(svar(kNow + 5), "updated_at = 1700000000005 (zigzag: 3400000000010)")
      .field(str(""), "output = \"\"")
      .field(u32(2), "error: class_version = 2")
      .field(byte(0), "error: category = 0 (Application)")
      .field(str("Error"), "error: kind = " + quoted("Error"))
      .field(str("boom"), "error: message = " + quoted("boom"))
      .field(byte(1), "has_custom_status = 1")
      .field(str("step 2"), "custom_status = " + quoted("step 2"))
      .field(str(""), "parent_id = \"\"")
      .field(uvar(0), "parent_execution_id = 0")
      .field(uvar(0), "parent_event_id = 0")
      .field(uvar(0), "recovery_attempts = 0")
      .field(byte(0), "suspended = 0");
  return d.crc();
}

/// Returns: the lines of the fenced block that follows `<!-- dump: name -->` in FORMAT.md, or
/// "" if there is none.
std::string documented_dump(std::string_view name) {
  std::ifstream file(DUROXIDE_SOURCE_ROOT "/storage/FORMAT.md");
  REQUIRE(file.good());
  const std::string marker = "<!-- dump: " + std::string(name) + " -->";
  std::string line;
  while (std::getline(file, line) && line != marker) {
  }
  if (!std::getline(file, line) || line.rfind("```", 0) != 0) return "";
  std::string block;
  while (std::getline(file, line) && line.rfind("```", 0) != 0) block += line + "\n";
  return block;
}

template <class T, class Decode>
void check_documented(std::string_view name, const T& value, const Dump& dump, Decode decode) {
  CAPTURE(name);
  CHECK(encode(value) == dump.bytes());
  CHECK(decode(dump.bytes()).value() == value);
  const std::string documented = documented_dump(name);
  // On a mismatch, the message is the block FORMAT.md should hold.
  if (documented != dump.text()) MESSAGE("expected in FORMAT.md:\n" << dump.text());
  CHECK(documented == dump.text());
}

}  // namespace

TEST_SUITE("storage.format_doc") {
  TEST_CASE("FORMAT.md dumps one real record of each type, byte for byte") {
    check_documented("HistoryEvent", example_event(), event_dump(), decode_history_event);
    check_documented("OrchestratorMessage", example_message(), message_dump(),
                     decode_orchestrator_message);
    check_documented("ActivityWorkItem", example_item(), item_dump(), decode_activity_work_item);
    check_documented("InstanceRecord", example_record(), record_dump(), decode_instance_record);
  }
}

}  // namespace duroxide::storage
