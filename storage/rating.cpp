// A workflow's rating: the instances read, each scored by the pure rules of
// engine/rating.h with the weights of the latest registered version.
#include <spdlog/spdlog.h>

#include "engine/suggest.h"
#include "engine/text.h"
#include "storage/internal.h"

namespace mentorflow::storage {

Status SociStore::Rating(const std::string& workflow, const std::string& group, const std::string& actor_id,
                         const Now& now, RatingReport* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    // The workflow: the one named, else the only registered one with a rating.
    const Definition* latest = nullptr;
    Status st;
    if (!workflow.empty()) {
      if (Status s = CheckId("a workflow", workflow); !s.ok()) return s;
      int v = LatestVersion(workflow);
      if (v == 0) return Status::NotFound("no workflow '" + workflow + "' is registered");
      latest = DefinitionFor(workflow, v, &st);
      if (!latest) return st;
      if (!latest->rating) return Status::BadInput("workflow '" + workflow + "' has no rating");
    } else {
      std::vector<std::string> names;
      soci::rowset<std::string> rs = (sql_->prepare << "SELECT DISTINCT name FROM " +
                                                        CurrentDefinitions() + " ORDER BY name");
      for (const auto& n : rs) names.push_back(n);
      std::vector<const Definition*> rated;
      for (const auto& n : names) {
        const Definition* d = DefinitionFor(n, LatestVersion(n), &st);
        if (d && d->rating) rated.push_back(d);
      }
      if (rated.empty()) return Status::NotFound("no registered workflow has a rating");
      if (rated.size() > 1) {
        std::string all;
        for (const auto* d : rated) all += (all.empty() ? "" : ", ") + d->name;
        return Status::BadInput("several workflows have a rating (" + all + "): name one with --workflow");
      }
      latest = rated[0];
    }
    const RatingDef& r = *latest->rating;
    const FieldDef& per = latest->fields[r.per];
    auto gi = std::find(per.values.begin(), per.values.end(), group);
    if (gi == per.values.end()) {
      std::string all, near = Closest(group, per.values);
      for (const auto& v : per.values) all += (all.empty() ? "" : ", ") + v;
      return Status::BadInput("'" + EscapeControls(group) + "' is not a value of " + per.name + " (" + all + ")" +
                              (near.empty() ? "" : "; did you mean '" + near + "'?"));
    }
    out->workflow = latest->name;
    out->version = latest->version;
    out->group = group;
    const size_t g = static_cast<size_t>(gi - per.values.begin());
    out->group_title = g < per.value_titles.size() && !per.value_titles[g].empty() ? per.value_titles[g] : group;
    const FieldDef& kind = latest->fields[r.weight_by];
    for (size_t i = 0; i < kind.values.size(); ++i) out->weights.push_back({kind.values[i], r.weights[i]});
    if (r.factor_by >= 0) {
      const FieldDef& result = latest->fields[r.factor_by];
      for (size_t i = 0; i < result.values.size(); ++i) out->factors.push_back({result.values[i], r.factors[i]});
    }

    std::vector<RatingPoints> points;
    {
      std::vector<std::tuple<std::string, long long, std::string, std::string>> rows;
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT id, workflow_version, state, fields FROM instances"
                                                     " WHERE institution = " + I() + " AND workflow = :w ORDER BY id",
                                    soci::use(latest->name));
      for (const auto& row : rs)
        rows.emplace_back(row.get<std::string>(0), RowInt(row, 1), row.get<std::string>(2), row.get<std::string>(3));
      for (const auto& [id, version, state, fields] : rows) {
        const Definition* own = DefinitionFor(latest->name, static_cast<int>(version), &st);
        if (!own) return st;
        try {
          auto p = PointsOf(*latest, *own, state, FieldsFromJson(*own, fields));
          if (p && p->group == group) points.push_back(std::move(*p));
        } catch (const StoredStateError& e) {
          spdlog::error("rating: instance {} cannot be read ({}); left out", id, e.what());
        }
      }
    }
    out->entries = Rank(points);

    const Actor actor = LoadActor(actor_id);
    const std::string capacity = actor.Holds("curator") ? "curator" : actor.Holds("moderator") ? "moderator" : "";
    if (!capacity.empty()) {
      for (const auto& e : out->entries) {
        std::string name;
        soci::indicator ni = soci::i_null;
        *sql_ << "SELECT name FROM person_data WHERE institution = " + I() + " AND id = :id", soci::into(name, ni),
            soci::use(e.person);
        out->names.push_back(ni == soci::i_ok ? name : "");
        if (Status s = AppendPersonHistory(e.person, actor_id, capacity, "read",
                                           "stats rating " + latest->name + " " + group, now);
            !s.ok())
          return s;
      }
    }
    tx.Commit();
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
