// A workflow drawn as a diagram: Mermaid (stateDiagram-v2) or Graphviz dot.
// Edges are labelled "event [roles]"; guarded edges carry a mark (*);
// deadline edges are labelled with their deadline.
#pragma once

#include <string>

#include "engine/model.h"

namespace mentorflow {

std::string ToMermaid(const Definition& def);
std::string ToDot(const Definition& def);

struct DotStyle {
  std::string current;  // a state drawn highlighted (the instance's)
  bool titles = false;  // edges labelled by the transitions' titles, for people
};
std::string ToDot(const Definition& def, const DotStyle& style);

}  // namespace mentorflow
