// Home: where the signed-in person can go — their classes, their schools, the trust.
import { getJSON, h, load, mount, setCrumbs, setTitle } from "./fathom.js";

load(async () => {
  const directory = await getJSON("/v1/directory");
  setTitle(directory.roles.includes("teacher") && !directory.trust_wide ? "My classes" : "Home");
  setCrumbs([{ label: "Home" }]);
  const sections = [];
  if (directory.trust_wide) {
    sections.push(h("section", { class: "panel" }, h("h2", {}, "Trust"),
      h("p", {}, h("a", { href: "/trust", class: "button primary" }, "Trust analysis by year group")),
      directory.audit ? h("p", {}, h("a", { href: "/audit", class: "button" },
        "Audit: event history and verification")) : null,
      directory.rollover ? h("p", {}, h("a", { href: "/rollover", class: "button" }, "New school year")) : null));
  }
  for (const school of directory.schools) {
    const byYear = new Map();
    for (const klass of school.classes) {
      if (!byYear.has(klass.year_group)) byYear.set(klass.year_group, []);
      byYear.get(klass.year_group).push(klass);
    }
    sections.push(h("section", { class: "panel school-card" },
      h("h2", {}, school.readable ? h("a", { href: `/schools/${encodeURIComponent(school.school_id)}` }, school.name)
        : school.name),
      school.classes.length ? h("ul", { class: "class-list" }, [...byYear.entries()].map(([year, classes]) =>
        h("li", {}, h("span", { class: "year-label" }, `Year ${year}`), " ", classes.map((klass) =>
          h("a", { class: klass.closed_on ? "class-chip closed" : "class-chip",
            href: `/classes/${encodeURIComponent(klass.class_id)}`, "data-class-id": klass.class_id }, klass.name,
            h("span", { class: "muted" }, klass.closed_on ? ` ${klass.academic_year}, closed (last year's)`
              : ` ${klass.pupils} pupils`))))))
        : h("p", { class: "empty" }, "No classes yet.")));
  }
  if (!sections.length) sections.push(h("p", { class: "empty" }, "Nothing to show yet: you have no classes or schools."));
  mount("view", sections);
});
