// Rendering Mustache templates (kainjow-mustache) with a JSON context.
//
// Documents and reminders are written by people, in Russian, as templates
// under the templates directory; nothing they say is in C++. Reminder
// templates live in templates/reminders/NAME.mustache and read like an
// e-mail: the first non-empty line is the subject, the rest is the text.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "engine/status.h"

namespace mentorflow {

enum class Escape { kNone, kHtml };

// Renders `source` with `context` (objects, arrays, strings, numbers,
// booleans). Bad Mustache is Code::kBadInput naming `name`.
Status RenderMustache(const std::string& name, const std::string& source, const nlohmann::json& context,
                      Escape escape, std::string* out);

struct RenderedReminder {
  std::string subject;
  std::string text;
};

// Reads templates_dir/reminders/NAME.mustache and renders it as plain text.
Status RenderReminder(const std::string& templates_dir, const std::string& name, const nlohmann::json& context,
                      RenderedReminder* out);

// Reads templates_dir/NAME.mustache (a document template: an XHTML fragment)
// and renders it with every value HTML-escaped.
Status RenderDocumentTemplate(const std::string& templates_dir, const std::string& name,
                              const nlohmann::json& context, std::string* out);

// "2026-12-20" -> "20.12.2026", as dates are written in Russian documents.
std::string RussianDate(const std::string& iso);

}  // namespace mentorflow
