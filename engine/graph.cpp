#include "engine/graph.h"

#include <sstream>

namespace mentorflow {
namespace {

std::string EdgeLabel(const Definition& def, const TransitionDef& t) {
  std::string roles;
  for (const auto& r : t.by) roles += (roles.empty() ? "" : ", ") + r;
  std::string label = t.event + " [" + roles + "]";
  if (t.when) label += " *";
  for (size_t s = 0; s < def.states.size(); ++s) {
    const auto& dl = def.states[s].deadline;
    if (!dl || dl->event != t.event) continue;
    if (dl->kind == DeadlineDef::Kind::kAfter) label += " (after " + FormatDuration(dl->after) + ")";
    if (dl->kind == DeadlineDef::Kind::kAtField) label += " (at " + def.fields[dl->at_field].name + ")";
    if (dl->kind == DeadlineDef::Kind::kYearly) label += " (yearly)";
    break;
  }
  return label;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace

std::string ToMermaid(const Definition& def) {
  std::ostringstream os;
  os << "---\ntitle: " << (def.title.empty() ? def.name : def.title) << "\n---\n";
  os << "stateDiagram-v2\n";
  for (const auto& s : def.states)
    os << "  " << s.name << " : " << (s.title.empty() ? s.name : s.title) << "\n";
  os << "  [*] --> " << def.states[def.initial_state].name << "\n";
  for (const auto& t : def.transitions)
    for (int f : t.from) {
      int to = t.to < 0 ? f : t.to;
      os << "  " << def.states[f].name << " --> " << def.states[to].name << " : " << EdgeLabel(def, t) << "\n";
    }
  for (const auto& s : def.states)
    if (s.final) os << "  " << s.name << " --> [*]\n";
  return os.str();
}

std::string ToDot(const Definition& def) { return ToDot(def, DotStyle{}); }

std::string ToDot(const Definition& def, const DotStyle& style) {
  std::ostringstream os;
  os << "digraph \"" << def.name << "\" {\n  rankdir=LR;\n  label=\""
     << Escape(def.title.empty() ? def.name : def.title) << "\";\n";
  if (style.titles) os << "  node [fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n";
  os << "  __start [shape=point];\n";
  for (const auto& s : def.states) {
    const bool current = s.name == style.current;
    os << "  " << s.name << " [label=\"" << Escape(s.title.empty() ? s.name : s.title) << "\""
       << (s.final ? ", shape=doublecircle" : ", shape=box") << (current ? ", style=\"rounded,filled,bold\", fillcolor=\"#ffd966\", penwidth=3" : s.final ? "" : ", style=rounded")
       << "];\n";
  }
  os << "  __start -> " << def.states[def.initial_state].name << ";\n";
  for (const auto& t : def.transitions)
    for (int f : t.from) {
      int to = t.to < 0 ? f : t.to;
      const std::string label = style.titles && !t.title.empty() ? t.title : EdgeLabel(def, t);
      os << "  " << def.states[f].name << " -> " << def.states[to].name << " [label=\""
         << Escape(label) << "\"" << (t.to < 0 ? ", style=dashed" : "") << "];\n";
    }
  os << "}\n";
  return os.str();
}

}  // namespace mentorflow
