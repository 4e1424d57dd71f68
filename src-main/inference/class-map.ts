/**
 * A teacher's class names onto a project's (or a student's) class ids, shared by pseudo-labeling and
 * distillation so both read a class map the same way.
 */

/** Teacher class names onto project class ids: explicit map first, else the same name (case-insensitive). */
export function classMapping(
  names: string[],
  classMap: Record<string, string | null>,
  project: { id: number; name: string }[],
) {
  const byName = new Map(project.map((c) => [c.name.toLowerCase(), c.id]));
  return names.map((n) => {
    const target = n in classMap ? classMap[n] : n;
    if (target === null || target === undefined) return null;
    return byName.get(target.toLowerCase()) ?? null;
  });
}
