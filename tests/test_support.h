// Shared helpers for the tests: paths into the source tree and the shipped
// workflows loaded once.
#pragma once

#include <string>
#include <vector>

#include "engine/loader.h"

// What a consent signed here states of a person besides their name (152-FZ
// art. 9 part 4), as options of `person add`: the address, the identity
// document, and — read only on a minor's record — the document of their
// guardian's authority. Test data: everyone gets the same.
#define MF_PAPERS                                                                                          \
  " --address 'г. Саратов, ул. Садовая, д. 1' --document-kind паспорт --document-number '6310 000001'"   \
  " --document-issued 2020-03-12 --document-issuer 'ГУ МВД России по Саратовской области'"                \
  " --authority 'свидетельство о рождении II-РУ 000001'"
// The operator's address, which a consent states too, as an option of `init`.
#define MF_INSTITUTION_ADDRESS " --institution-address 'г. Саратов, ул. Школьная, д. 5'"

namespace mentorflow::testing {

// MF_PAPERS on a PersonRecord (for the tests that call the store itself).
template <class Record>
Record Papers(Record p) {
  p.address = "г. Саратов, ул. Садовая, д. 1";
  p.document = {"паспорт", "6310 000001", "2020-03-12", "ГУ МВД России по Саратовской области"};
  p.authority = "свидетельство о рождении II-РУ 000001";
  return p;
}
constexpr const char* kInstitutionAddress = "г. Саратов, ул. Школьная, д. 5";

std::string SourcePath(const std::string& relative);
LoadOptions Options();  // templates = the shipped templates
const Catalog& Shipped();
std::vector<std::string> FilesIn(const std::string& relative_dir, const std::string& ext = ".yaml");
std::string ReadText(const std::string& path);

// Runs a command line; returns its exit code and captures stdout and stderr.
struct Run {
  int code = -1;
  std::string out;
  std::string err;
};
Run RunCli(const std::string& args, const std::string& cwd = "");

}  // namespace mentorflow::testing
