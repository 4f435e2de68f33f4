// stats annual, monitoring, rating.
#include <cstdio>
#include <iostream>

#include "app/codec.h"
#include "app/documents.h"
#include "app/rollup.h"
#include "app/stats.h"
#include "cli/common.h"

namespace mentorflow::cli {

namespace {

struct Options {
  std::string period, format = "text", by, group, workflow, out;
  int year = 0;
};

int Annual(const Globals& g, const Options& o) {
  DbCommand cmd(g, false, true);
  if (!cmd.ok()) return cmd.code;
  std::string text;
  const std::string format = g.json ? "json" : o.format;
  if (Status st = o.by.empty() ? app::AnnualReport(*cmd.store, g.templates, o.year, cmd.now, format, &text)
                               : app::AnnualBreakdownReport(*cmd.store, g.templates, o.year, o.by, cmd.now, format, &text);
      !st.ok())
    return cmd.Report(st);
  std::cout << text;
  return 0;
}

// region rollup: the regional centre's view of the region for a year.
int Rollup(const Globals& g, const Options& o) {
  DbCommand cmd(g);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  auto r = app::RegionRollup(ctx, o.year);
  if (!r.ok()) return cmd.Report(r.status());
  const std::string format = g.json ? "json" : o.format == "text" ? "csv" : o.format;
  std::string text;
  if (format == "json") {
    text = app::Dump(app::RollupJson(*r)) + "\n";
  } else if (Status st = app::RollupFile(ctx, *r, format, o.out, &text); !st.ok()) {
    return cmd.Report(st);
  }
  if (!text.empty() && o.out.empty()) {
    std::cout << text;
  } else if (!text.empty()) {
    if (Status st = WritePrivateFile(o.out, [&](const std::string& tmp) {
          std::FILE* f = std::fopen(tmp.c_str(), "wb");
          if (!f) return Status::BadInput("cannot write " + o.out);
          const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
          return std::fclose(f) == 0 && ok ? Status::Ok() : Status::Internal("cannot write " + o.out);
        });
        !st.ok())
      return cmd.Report(st);
  }
  if (!o.out.empty() && !g.json)
    std::fprintf(stderr, "mentorflow: %s written: %d submitted, %d late, %d not yet due\n", o.out.c_str(),
                 r->submitted, r->late, r->pending);
  return 0;
}

int Monitoring(const Globals& g, const Options& o) {
  DbCommand cmd(g, false, true);
  if (!cmd.ok()) return cmd.code;
  json summary;
  if (Status st = app::MonitoringSummary(*cmd.store, o.period, &summary); !st.ok()) return cmd.Report(st);
  if (g.json) {
    PrintJson(summary);
    return 0;
  }
  auto text = [](const json& v) { return v.is_null() ? std::string("-") : v.is_string() ? v.get<std::string>() : v.dump(); };
  std::cout << "monitoring " << summary["period"].get<std::string>() << " (due " << text(summary["due"])
            << "): submitted " << text(summary["submitted_on"]) << (summary["on_time"].get<bool>() ? ", on time" : ", late")
            << "\n";
  const json results = summary["results"];
  for (const auto& [k, v] : results.items()) {
    std::cout << "  " << k << ": " << E(text(v));
    if (summary["delta"].contains(k)) {
      const long long d = summary["delta"][k].get<long long>();
      std::cout << "  (" << (d >= 0 ? "+" : "") << d << " since " << summary["previous"]["period"].get<std::string>()
                << ")";
    }
    std::cout << "\n";
  }
  if (summary["previous"].is_null()) std::cout << "  no earlier cycle to compare with\n";
  return 0;
}

int Rating(const Globals& g, const Options& o) {
  DbCommand cmd(g);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  auto r = app::Ranking(ctx, o.workflow, o.group);
  if (!r.ok()) return cmd.Report(r.status());
  if (g.json) {
    PrintJson(app::RankingJson(*r));
    return 0;
  }
  const bool named = !r->names.empty();
  std::cout << "rating " << r->workflow << " v" << r->version << ": " << r->group << " «" << E(r->group_title) << "»\n";
  std::cout << "weights:";
  for (const auto& [k, v] : r->weights) std::cout << " " << k << "=" << v;
  if (!r->factors.empty()) {
    std::cout << "; factors:";
    for (const auto& [k, v] : r->factors) std::cout << " " << k << "=" << v;
  }
  std::cout << "\n";
  if (r->entries.empty()) std::cout << "nobody counted yet\n";
  for (size_t i = 0; i < r->entries.size(); ++i) {
    const auto& e = r->entries[i];
    char normalised[16];
    std::snprintf(normalised, sizeof normalised, "%.1f", e.normalised);
    std::cout << e.rank << ". " << E(e.person) << (named ? "  " + E(r->names[i]) : "") << "  " << normalised
              << "  (score " << e.score << ", " << e.records << " counted)\n";
  }
  return 0;
}

}  // namespace

void AddStatsCommands(CLI::App& app, Globals& g, Commands* out) {
  auto o = std::make_shared<Options>();
  auto* stats = app.add_subcommand("stats", "Figures from the history: a year's, a monitoring cycle's, a rating");
  stats->require_subcommand(1);
  stats->fallthrough();
  auto* monitoring =
      stats->add_subcommand("monitoring", "A monitoring cycle's results, on time or late, and the change from the one before");
  monitoring->add_option("--period", o->period, "YEAR-H1 (due by 20 May) or YEAR-H2 (due by 20 December)")->required();
  auto* annual = stats->add_subcommand(
      "annual", "The year's figures: people, pairs formed, at work, completed, terminated, extended, monitoring");
  annual->add_option("--year", o->year, "The calendar year (the year under way counts up to --now)")->required();
  annual->add_option("--format", o->format, "text (default), json, csv (UTF-8, Russian titles) or html")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}));
  annual->add_option("--by", o->by,
                     "A person attribute (attributes: in the YAML): every figure per value, a pair under its "
                     "mentee's, with the targets declared (text, json or csv)");
  auto* rating = stats->add_subcommand(
      "rating", "A workflow's rating (its `rating:`): people ranked by the weighted sum of their counted instances");
  rating->add_option("--direction", o->group, "The value of the rating's `per` field to rank (a direction)")->required();
  rating->add_option("--workflow", o->workflow, "The workflow (default: the one that has a rating)");
  rating->footer("Equal scores share a rank. Names are shown to a curator or moderator (--as), and the read\n"
                 "is recorded in each listed person's history; anyone else sees ids only.\n");
  auto* region = app.add_subcommand("region", "The regional centre: the region's annual reports");
  region->require_subcommand(1);
  region->fallthrough();
  auto* rollup = region->add_subcommand(
      "rollup", "Who has sent the year's annual report (signed by their director), who is late, and the sum of the"
                " reports by institution and in total (a regional centre's staff, --as)");
  rollup->add_option("--year", o->year, "The year the reports are for")->required();
  rollup->add_option("--format", o->format,
                     "csv (default), json, xlsx, html, odt or pdf (the document for the centre's director)")
      ->check(CLI::IsMember({"text", "json", "csv", "xlsx", "html", "odt", "pdf"}));
  rollup->add_option("--out", o->out, "The file to write (xlsx, odt and pdf need one)");
  rollup->footer("A count below 5 reads 'менее 5', and so does one more count of every line it could be\n"
                 "recovered from (a column and its total, a breakdown and the figure it adds up to).\n");
  out->push_back({rollup, [&g, o] { return Rollup(g, *o); }});
  out->push_back({annual, [&g, o] { return Annual(g, *o); }});
  out->push_back({monitoring, [&g, o] { return Monitoring(g, *o); }});
  out->push_back({rating, [&g, o] { return Rating(g, *o); }});
}

}  // namespace mentorflow::cli
