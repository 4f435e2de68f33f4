// The pages' rendering: Mustache templates under TEMPLATES/web/ (a page's
// body, then layout.mustache around it), the Russian texts of
// TEMPLATES/web/messages.yaml (refusals by rule, notices, field errors),
// times in the institution's zone, and the workflow diagrams (Graphviz dot,
// drawn once per workflow version and state). Nothing people read is
// written here: it is all in the templates and the YAML.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "engine/model.h"
#include "engine/status.h"

namespace mentorflow::server::web {

using nlohmann::json;

// Renders TEMPLATES/web/NAME.mustache with `context` (every value HTML-escaped),
// then layout.mustache with the result as `body` and the same context.
Status RenderPage(const std::string& templates, const std::string& name, json context, std::string* out);

// A text of messages.yaml by its dotted path ("errors.role"); `fallback`'s
// path when there is none.
std::string Text(const std::string& templates, const std::string& path, const std::string& fallback = "");

// What a person reads for a refusal: the text of its rule, else of its code.
std::string ErrorText(const std::string& templates, const Status& st);

// "2026-12-06T11:05:00Z" -> "06.12.2026, 14:05" in `zone`; "" for "".
std::string LocalTimeRu(const std::string& instant, const std::string& zone);
// "2026-12-20" -> "20.12.2026".
std::string DateRu(const std::string& iso);

// The SVG of `def` with `state` highlighted (dot -Tsvg), cached; an error
// when Graphviz is missing or fails.
Status Diagram(const Definition& def, const std::string& state, std::string* svg);

// A file of TEMPLATES/web/static/ (style.css, print.css, app.js), read once;
// NotFound for any other name.
Status StaticFile(const std::string& templates, const std::string& name, std::string* bytes, std::string* type);

}  // namespace mentorflow::server::web
