#include "troupe/node/regular_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace troupe {
namespace {

class RegularFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("troupe-regular-file-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(RegularFile, ReadsUpToTheCapInclusive) {
  std::ofstream(path("f")) << "12345";
  auto r = read_regular_file(path("f"), 5, "payload");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "12345");
  r = read_regular_file(path("f"), 4, "payload");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kTooLarge);
  EXPECT_EQ(r.error().to_string(), "too-large: payload " + path("f") + " is over the 4 bytes cap");
  std::ofstream(path("empty")).flush();
  EXPECT_EQ(*read_regular_file(path("empty"), 4, "payload"), "");
}

// An error names the file on one line: a newline or escape in its name is shown as \xNN.
TEST_F(RegularFile, AnErrorShowsAHostileFileNameOnOneLine) {
  auto r = read_regular_file(path("no\nerror: all good\x1b[2J"), 4, "module");
  ASSERT_FALSE(r.ok());
  const std::string line = r.error().to_string();
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_NE(line.find("no\\x0Aerror: all good\\x1B[2J"), std::string::npos) << line;
}

TEST_F(RegularFile, RefusesEverythingButRegularFilesWithoutBlocking) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  // Without O_NONBLOCK this open would wait for a writer forever.
  auto r = read_regular_file(path("fifo"), 1 << 20, "module");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(),
            "invalid-argument: module " + path("fifo") + " is a FIFO, not a regular file");
  r = read_regular_file("/dev/zero", 1 << 20, "module");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kInvalidArgument);
  r = read_regular_file(dir_.string(), 1 << 20, "module");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kInvalidArgument);
  r = read_regular_file(path("missing"), 1 << 20, "module");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kNotFound);
}

}  // namespace
}  // namespace troupe
