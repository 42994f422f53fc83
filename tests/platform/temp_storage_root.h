// TempStorageRoot: a fresh private directory (mkdtemp, 0700) for one storage test, removed with
// everything under it at the end of the test. Single-threaded test helper.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace troupe {

class TempStorageRoot {
 public:
  TempStorageRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "troupe-storage-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempStorageRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempStorageRoot(const TempStorageRoot&) = delete;
  TempStorageRoot& operator=(const TempStorageRoot&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace troupe
