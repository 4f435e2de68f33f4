// `mentorflow demo`: the shipped workflows validated and drawn, then a school
// year played on the real store (a new SQLite file DIR/demo.db), printing
// each event, deadline and reminder, and finally the outbox.
#pragma once

#include <string>

namespace mentorflow::app {

struct DemoOptions {
  std::string workflows;
  std::string templates;
  std::string dir;
  std::string scenario;
};

int RunDemo(const DemoOptions& o);

}  // namespace mentorflow::app
