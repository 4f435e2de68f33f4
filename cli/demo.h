// `mentorflow demo`: the shipped workflows validated and drawn, then a school
// year simulated day by day (in memory until storage lands), printing each
// event, deadline and reminder.
#pragma once

#include <string>

namespace mentorflow::cli {

struct DemoOptions {
  std::string workflows;
  std::string templates;
  std::string zone;
  std::string dir;
  std::string scenario;
};

int RunDemo(const DemoOptions& o);

}  // namespace mentorflow::cli
