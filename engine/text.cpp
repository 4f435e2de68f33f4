#include "engine/text.h"

#include <cstdio>

namespace mentorflow {

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (c < 0x80) n = 0, cp = c;
    else if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return false;
    if (i + n >= s.size() && n > 0) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

Status CheckId(std::string_view what, std::string_view id) {
  if (id.empty()) return Status::BadInput(std::string(what) + " is empty");
  if (id.size() > kMaxIdBytes)
    return Status::BadInput(std::string(what) + " is longer than " + std::to_string(kMaxIdBytes) + " characters");
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-'))
      return Status::BadInput(std::string(what) + " may contain only A-Z, a-z, 0-9, '_', '.' and '-'");
  return Status::Ok();
}

Status CheckText(std::string_view what, std::string_view text, std::size_t max_bytes, bool multiline) {
  if (!IsValidUtf8(text)) return Status::BadInput(std::string(what) + " is not valid UTF-8");
  if (text.size() > max_bytes)
    return Status::BadInput(std::string(what) + " is longer than " + std::to_string(max_bytes) + " bytes");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;  // U+0080..U+009F
    if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7F || c1)
      return Status::BadInput(std::string(what) + " contains a control character");
  }
  return Status::Ok();
}

std::string EscapeControls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '\\') out += "\\\\";
    else if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else if (ch == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else out += ch;
  }
  return out;
}

}  // namespace mentorflow
