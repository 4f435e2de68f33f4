// Conditions (`when:`, `start_when:`, guards): their evaluation against an
// instance's values and the world, and their description in words for a
// refusal. Part of the pure core: no storage, no clock but `now`.
#pragma once

#include <string>
#include <vector>

#include "engine/dispatch.h"

namespace mentorflow {

// "=", "!=", "<", ... as a condition is written.
const char* OpName(CompareOp op);

// A condition in words, as the YAML says it ("document 'agreement' signed").
std::string Describe(const Definition& def, const Condition& c, const std::vector<FieldDef>& scope);

// Evaluate() and ExplainFailure() are declared in engine/dispatch.h.

}  // namespace mentorflow
