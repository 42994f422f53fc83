#include "troupe/node/boot_actor.h"

#include <spdlog/spdlog.h>

#include <future>
#include <utility>

namespace troupe {

std::string BootActor::label(std::size_t index) const {
  std::string out = "actor[" + std::to_string(index) + "]";
  if (!name.empty()) out += " (" + name + ")";
  return out;
}

SpawnRequest BootActor::spawn_request() const {
  SpawnRequest r;
  r.kind = kind;
  r.package_path = package;
  r.tier = tier;
  r.limits = limits;
  r.name = name;
  r.restart = restart;
  return r;
}

Result<void> start_boot_actors(Operations& operations, const std::vector<BootActor>& actors,
                               const std::function<bool()>& interrupted) {
  for (std::size_t i = 0; i < actors.size(); ++i) {
    const BootActor& a = actors[i];
    if (interrupted && interrupted()) {
      return Error{BaseErrc::kUnavailable, "interrupted: asked to stop before " + a.label(i) +
                                               " (" + std::to_string(i) + " of " +
                                               std::to_string(actors.size()) + " started)"};
    }
    std::promise<Result<SpawnResult>> answered;
    auto answer = answered.get_future();
    // Operations::spawn answers exactly once, maybe on this thread before it returns.
    operations.spawn(a.spawn_request(),
                     [&answered](Result<SpawnResult> r) { answered.set_value(std::move(r)); });
    Result<SpawnResult> r = answer.get();
    if (!r.ok()) return Error{r.error().code, a.label(i) + ": " + r.error().detail};
    spdlog::info("boot: {} started: {} {}", a.label(i), r->id.to_string(), r->type_name);
  }
  return {};
}

}  // namespace troupe
