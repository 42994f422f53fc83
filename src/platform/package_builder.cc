#include "troupe/platform/package_builder.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <map>
#include <memory>

#include "printable.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"

namespace troupe::platform {
namespace {

// 1980-01-01 plus a day, in local time terms libzip converts to DOS time: the same bytes on
// every build.
constexpr time_t kFixedMtime = 315619200;

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};

Result<void> add_stored(zip_t* zip, const std::string& name, const std::string& bytes) {
  zip_source_t* src = zip_source_buffer(zip, bytes.data(), bytes.size(), 0);
  if (src == nullptr) return Error{BaseErrc::kIo, std::string("zip: ") + zip_strerror(zip)};
  const zip_int64_t index = zip_file_add(zip, name.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(src);
    return Error{BaseErrc::kIo, "zip: cannot add " + name + ": " + zip_strerror(zip)};
  }
  const auto i = static_cast<zip_uint64_t>(index);
  if (zip_set_file_compression(zip, i, ZIP_CM_STORE, 0) != 0 ||
      zip_file_set_external_attributes(zip, i, 0, ZIP_OPSYS_UNIX,
                                       static_cast<zip_uint32_t>(S_IFREG | 0644) << 16) != 0 ||
      zip_file_set_mtime(zip, i, kFixedMtime, 0) != 0) {
    return Error{BaseErrc::kIo, "zip: cannot set up " + name + ": " + zip_strerror(zip)};
  }
  return {};
}

}  // namespace

Result<Manifest> build_package(PackageInputs inputs, const SigningKey& key,
                               const std::filesystem::path& out) {
  Manifest& m = inputs.manifest;
  std::map<std::string, const std::string*> files;
  for (const PackageFile& f : inputs.files) {
    if (auto r = check_entry_path("file " + printable(f.path), f.path); !r) return r.error();
    if (f.path == m.binary.path) {
      return Error{BaseErrc::kInvalidArgument, "file '" + f.path + "' is the binary's path"};
    }
    if (!files.emplace(f.path, &f.bytes).second) {
      return Error{BaseErrc::kInvalidArgument, "file '" + f.path + "' is given twice"};
    }
  }
  auto fill = [&files](FileEntry& entry) -> Result<void> {
    auto it = files.find(entry.path);
    if (it == files.end()) {
      return Error{BaseErrc::kInvalidArgument,
                   "the manifest lists '" + entry.path + "' but no file was given for it"};
    }
    entry.hash = sha256_hex(*it->second);
    return {};
  };
  for (auto& f : m.resources) {
    if (auto r = fill(f); !r) return r.error();
  }
  for (auto& f : m.proto_files) {
    if (auto r = fill(f); !r) return r.error();
  }
  if (m.lock_file) {
    if (auto r = fill(*m.lock_file); !r) return r.error();
  }
  for (const auto& [path, bytes] : files) {
    bool listed = false;
    for (const auto& l : m.listed_entries()) listed = listed || l.path == path;
    if (!listed) m.resources.push_back(FileEntry{path, sha256_hex(*bytes), ""});
  }
  m.binary.hash = sha256_hex(inputs.binary);
  m.binary.size = inputs.binary.size();
  m.signature_algorithm = "ed25519";
  m.signing_key_id = key.key_id();

  const std::string text = m.to_toml();
  // What the verifier will read must parse back to this manifest: catch it here, not there.
  auto reparsed = Manifest::parse(text, ManifestMode::kSigned);
  if (!reparsed.ok()) return reparsed.error();
  const Signature sig = key.sign(text);
  const std::string sig_bytes(reinterpret_cast<const char*>(sig.data()), sig.size());

  // ZIP_EXCL: a file already at the temporary name (not ours) is never removed or replaced;
  // the build fails instead.
  const std::filesystem::path temp = out.string() + ".tmp-" + std::to_string(::getpid());
  int err = 0;
  std::unique_ptr<zip_t, ZipDiscard> zip(zip_open(temp.c_str(), ZIP_CREATE | ZIP_EXCL, &err));
  if (!zip) {
    return Error{BaseErrc::kIo,
                 "cannot create " + temp.string() + " (libzip error " + std::to_string(err) + ")"};
  }
  std::vector<std::pair<std::string, const std::string*>> order{
      {kManifestEntry, &text}, {kSignatureEntry, &sig_bytes}, {m.binary.path, &inputs.binary}};
  for (const auto& l : m.listed_entries()) {
    if (l.path != m.binary.path) order.emplace_back(l.path, files.at(l.path));
  }
  for (const auto& [name, bytes] : order) {
    if (auto r = add_stored(zip.get(), name, *bytes); !r) return r.error();
  }
  if (zip_close(zip.get()) != 0) {
    auto e = Error{BaseErrc::kIo, "cannot write " + temp.string() + ": " + zip_strerror(zip.get())};
    ::unlink(temp.c_str());
    return e;
  }
  (void)zip.release();  // zip_close freed it
  if (::rename(temp.c_str(), out.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Error{BaseErrc::kIo, "cannot write " + out.string()};
  }
  return std::move(reparsed).value();
}

}  // namespace troupe::platform
