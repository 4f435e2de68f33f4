// libFuzzer target: any bytes through the loader and validator must give
// diagnostics or a definition, never a crash, a leak or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/graph.h"
#include "engine/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mentorflow::LoadOptions opts;
  opts.max_bytes = 1 << 16;
  auto r = mentorflow::LoadWorkflowText(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", opts);
  if (r.ok()) {
    // A valid definition must also draw without trouble.
    (void)mentorflow::ToMermaid(*r.definition);
    (void)mentorflow::ToDot(*r.definition);
  } else {
    for (const auto& e : r.errors) (void)e.ToString();
  }
  return 0;
}
