// Where rendered text goes. Renderers write line by line into a sink so that the CLI can stream
// a dump of any size to stdout while the FUSE front renders the same text into a string.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>

namespace qcow2 {

class TextSink {
 public:
  virtual ~TextSink() = default;
  virtual void write(std::string_view text) = 0;

  // Formats into a stack buffer first: a dump prints millions of lines, one allocation each
  // would dominate the run time.
  template <class... Args>
  void print(fmt::format_string<Args...> f, Args&&... args) {
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), f, std::forward<Args>(args)...);
    write(std::string_view(buf.data(), buf.size()));
  }
};

// Collects everything into a string (for files rendered on demand, and for tests).
class StringSink : public TextSink {
 public:
  void write(std::string_view text) override { text_.append(text); }
  const std::string& str() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

// Streams to a stdio stream; stdio's buffering keeps the write calls large.
class FileSink : public TextSink {
 public:
  explicit FileSink(std::FILE* f) : file_(f) {}
  void write(std::string_view text) override;
  // False once any write failed (disk full, closed pipe); the caller reports it once.
  bool ok() const { return ok_; }

 private:
  std::FILE* file_;
  bool ok_ = true;
};

}  // namespace qcow2
