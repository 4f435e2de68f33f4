// Documents: list, show, sign, issue an order, render to HTML, ODT or PDF.
// DOC is INSTANCE:NAME[:ISSUE] (a document of an instance), N/YYYY (an
// order), consent:PERSON[:ISSUE] or act:PERSON. Reads follow their
// instance's read rule (or, for orders, consents and acts, the people they
// name) and are recorded; a stranger learns nothing from which documents
// exist.
#pragma once

#include <string>
#include <vector>

#include "app/context.h"
#include "app/documents.h"

namespace mentorflow::app {

// Whether DOC is an order's number (N/YYYY: a slash, no colon).
bool IsOrderNumber(const std::string& doc);

// Every document of `instance` (every document at all when empty: a curator
// or the director).
Result<std::vector<DocumentRecord>> ListDocuments(Context& ctx, const std::string& instance);

Result<DocumentRecord> ShowDocument(Context& ctx, const std::string& doc);

struct Signed {
  std::string document, status;
  bool order = false;
  std::vector<std::string> approved;  // an order: the instances its signature sent on
};
Result<Signed> SignDocument(Context& ctx, const std::string& doc);

// `name`: a collective document or its template (order_assign_pairs).
Result<DocumentRecord> IssueOrder(Context& ctx, const std::string& name);

struct Rendered {
  DocumentRecord document;
  std::string format;        // html, odt, pdf
  std::string content_type;  // text/html; charset=utf-8, ...
  std::string filename;      // a safe file name: NAME-ISSUE.EXT
  std::string bytes;
};
// A document read as a page: its record and its printable text (the
// fragments the HTML, ODT and PDF are made of). The read is recorded.
struct DocumentPage {
  DocumentRecord document;
  PrintableDocument printable;
};
Result<DocumentPage> ReadDocument(Context& ctx, const std::string& doc);

// `format`: html, odt or pdf (LibreOffice). The read is recorded once the
// document is known to print.
Result<Rendered> RenderDocument(Context& ctx, const std::string& doc, const std::string& format);

}  // namespace mentorflow::app
