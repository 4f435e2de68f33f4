// A stored document as files to print and sign: a print-ready HTML page, an
// OpenDocument text (ODT, written with libzip) and a PDF (the ODT converted
// by LibreOffice when it is installed).
//
// A document's body is the XHTML fragment its Mustache template rendered
// when it was issued (every value escaped then); it is fixed. The signature
// block is rendered at print time from templates/signatures.mustache, so a
// print-out shows who has signed so far. Both are converted to each format
// from the same XHTML: h1-h3, p, ul, ol, li, table, tr, th, td, strong, b,
// em, i, br. Anything else is an error naming the element, never dropped.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/status.h"
#include "storage/store.h"

namespace mentorflow {

struct PrintableDocument {
  std::string title;       // the document's title (YAML), for the page and the ODT's metadata
  std::string body;        // XHTML fragment, as issued
  std::string signatures;  // XHTML fragment: the signature block, rendered now
};

// The document as a PrintableDocument: its stored body, and the signature
// block rendered now from TEMPLATES/signatures.mustache. A document whose
// bytes no longer match their SHA-256 is refused (rule "altered"), and so is
// one issued before documents kept their text.
// Dates are printed in the institution's `zone`.
Status Printable(const std::string& templates_dir, const std::string& institution, const std::string& zone,
                 const DocumentRecord& doc, PrintableDocument* out);

// Checks that `fragment` is well-formed XHTML of the elements above.
Status CheckXhtml(const std::string& fragment);

// A complete HTML page: A4, margins, the body and the signature block.
Status HtmlPage(const PrintableDocument& doc, std::string* out);

// Writes an ODT to `path`: `mimetype` first and stored uncompressed, then
// META-INF/manifest.xml, content.xml, styles.xml and meta.xml; paragraphs as
// text:p, headings as text:h, lists and tables as ODF lists and tables.
Status WriteOdt(const PrintableDocument& doc, const std::string& path);

// Converts `odt_path` to a PDF at `pdf_path` with LibreOffice (soffice
// --headless --convert-to pdf), with a profile directory of its own and a
// time limit; without soffice, a BadInput naming the package to install.
Status ConvertToPdf(const std::string& odt_path, const std::string& pdf_path, int timeout_seconds = 120);

// Runs `args` (args[0] looked up on PATH) with its output to /dev/null and
// its errors to `stderr_path` (or /dev/null): its exit code, -1 when a
// signal ended it, -2 when it could not start (the errno in *spawn_error).
int RunQuietly(std::vector<std::string> args, const std::string& stderr_path = "", int* spawn_error = nullptr);

// Writes a file that may hold personal data at `path`, readable by its
// owner only (0600), like the database. Refused (BadInput, nothing written)
// when `path` exists and is not a regular file: a symbolic link, a device,
// a FIFO, a directory. `write` fills a new temporary file beside `path`,
// which then replaces it in one rename; when anything fails (a full disk)
// the temporary file is removed and an existing `path` is left as it was.
Status CheckPrivateTarget(const std::string& path);  // the refusal above, before anything is read
Status WritePrivateFile(const std::string& path, const std::function<Status(const std::string& tmp)>& write);

}  // namespace mentorflow
