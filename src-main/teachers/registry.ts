/**
 * Registering teachers in a project: probe the ONNX file, check the class map against the teacher's classes,
 * create project classes the map points to, and keep probe + settings in the teacher record's config.
 */
import path from 'node:path';
import { StarlingError } from '../errors.js';
import type { ProjectStore } from '../store/project.js';
import type { TeacherRecord } from '../store/types.js';
import type { Layout } from '../inference/decode.js';
import { teacherSettingsSchema, type TeacherConfig, type TeacherSettings } from '../settings/teacher-config.js';
import { probeTeacher } from './teacher.js';

export interface RegisterTeacher extends Partial<TeacherSettings> {
  path: string;
  name?: string;
  family?: Layout;
  names?: string[];
  imgsz?: number;
}

/** Names are used in annotation sources (`teacher:<name>`): short, no '+'. */
const NAME_RE = /^[\w.-]{1,64}$/;

function checkMap(names: string[], classMap: Record<string, string | null>, file: string): void {
  for (const [from, to] of Object.entries(classMap)) {
    if (!names.includes(from))
      throw new StarlingError(
        'INVALID_INPUT',
        `${file}: the class map names "${from}", which the teacher does not have (it has ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`,
      );
    if (to !== null && (typeof to !== 'string' || !to.trim()))
      throw new StarlingError('INVALID_INPUT', `${file}: class map target for "${from}" must be a class name or null`);
  }
}

function ensureTargets(store: ProjectStore, classMap: Record<string, string | null>): void {
  store.transaction(() => {
    // Matching is case-insensitive (as in classMapping), so "Person" reuses an existing "person".
    const have = new Set(store.classes.list().map((c) => c.name.toLowerCase()));
    for (const to of Object.values(classMap)) {
      if (to && !have.has(to.trim().toLowerCase())) {
        store.classes.create(to.trim());
        have.add(to.trim().toLowerCase());
      }
    }
  });
}

export async function registerTeacher(store: ProjectStore, req: RegisterTeacher): Promise<TeacherRecord> {
  const file = path.resolve(req.path);
  const probe = await probeTeacher(file, {
    ...(req.family ? { family: req.family } : {}),
    ...(req.names ? { names: req.names } : {}),
    ...(req.imgsz ? { imgsz: req.imgsz } : {}),
  }).catch((e: unknown) => {
    throw new StarlingError('INVALID_INPUT', (e as Error).message);
  });
  const name = req.name ?? path.basename(file, path.extname(file));
  if (!NAME_RE.test(name))
    throw new StarlingError('INVALID_INPUT', `teacher name "${name}" must be 1-64 letters, digits, '.', '_' or '-'`);
  if (store.teachers.list().some((t) => t.name === name))
    throw new StarlingError('CONFLICT', `a teacher named "${name}" is already registered`);
  const classMap = req.classMap ?? {};
  checkMap(probe.names, classMap, file);
  ensureTargets(store, classMap);
  const config: TeacherConfig = {
    ...probe,
    ...teacherSettingsSchema.parse({ classMap, weight: req.weight, tta: req.tta }),
  };
  return store.teachers.add(name, file, probe.family, config);
}

export function updateTeacher(store: ProjectStore, id: number, patch: Partial<TeacherSettings>): TeacherRecord {
  const t = store.teachers.get(id);
  const config = t.config;
  if (patch.classMap) {
    checkMap(config.names, patch.classMap, t.path);
    ensureTargets(store, patch.classMap);
  }
  const next: TeacherConfig = {
    ...config,
    ...(patch.classMap ? { classMap: patch.classMap } : {}),
    ...(patch.weight !== undefined ? { weight: patch.weight } : {}),
    ...(patch.tta !== undefined ? { tta: patch.tta } : {}),
  };
  return store.teachers.setConfig(id, next);
}
