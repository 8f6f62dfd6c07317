// Checks every object of a rendered kustomization against the Kubernetes OpenAPI schema
// of its kind, and writes the objects as one JSON array for the jq checks.
//
//   node validate_objects.mjs RENDERED.yaml OUT.json
//
// Schemas: the npm packages kubernetes-models (built-in kinds, generated from the
// Kubernetes OpenAPI document) and @kubernetes-models/cert-manager (cert-manager's CRDs),
// each kind compiled to an ajv validator. On top of what those check (types, required
// fields, enums, formats), unknown fields are refused the way `kubectl apply
// --validate=strict` refuses them: the validator is run on a proxy of the object that
// records which fields it looked up, and a field of a schema object that the validator
// never asked for is not in the schema (a typo, or a field from another version). Maps
// (labels, annotations, Secret data) are read by iterating their keys; those are free.
//
// Prints one line per problem and exits 1 if there is any; exits 2 on bad usage.
// Must run from the folder whose node_modules holds those packages (ESM imports resolve
// from the script's own location); the test copies it there.
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [inputPath, outputPath] = process.argv.slice(2);
if (!inputPath || !outputPath) {
  console.error("usage: node validate_objects.mjs RENDERED.yaml OUT.json");
  process.exit(2);
}

// The model class of apiVersion/kind. Each package has one module per kind, at
// GROUP/VERSION/KIND (core kinds at v1/KIND); importing only those is seconds faster
// than importing a package's index.
const modelPackages = ["kubernetes-models", "@kubernetes-models/cert-manager"];
async function findModel(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind)) return null;
  for (const pkg of modelPackages) {
    try {
      const module = await import(`${pkg}/${apiVersion}/${kind}`);
      const model = module[kind];
      if (model && model.apiVersion === apiVersion && model.kind === kind) return model;
    } catch (error) {
      if (error.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && error.code !== "ERR_MODULE_NOT_FOUND") throw error;
    }
  }
  return null;
}

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

// Wraps `value` so that every property lookup and key iteration the validator makes is
// recorded in `log` under the JSON pointer of the object it was made on.
function traced(value, pointer, log) {
  if (value === null || typeof value !== "object") return value;
  let entry = log.get(pointer);
  if (!entry) {
    entry = { asked: new Set(), iterated: false };
    log.set(pointer, entry);
  }
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return child;
      entry.asked.add(key);
      if (Object.hasOwn(target, key) && child !== null && typeof child === "object") {
        return traced(child, `${pointer}/${key}`, log);
      }
      return child;
    },
    has(target, key) {
      if (typeof key === "string") entry.asked.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      entry.iterated = true;
      return Reflect.ownKeys(target);
    },
  });
}

// Fields of schema objects the validator never asked for. An object it iterated is a
// map; one it asked nothing of is free-form (or was never reached, because its parent
// field is itself unknown and already reported).
function unknownFields(value, pointer, log, found) {
  if (Array.isArray(value)) {
    value.forEach((item, index) => unknownFields(item, `${pointer}/${index}`, log, found));
    return found;
  }
  if (!isPlainObject(value)) return found;
  const entry = log.get(pointer);
  for (const [key, child] of Object.entries(value)) {
    if (entry && !entry.iterated && entry.asked.size > 0 && !entry.asked.has(key)) {
      found.push(`${pointer}/${key}`);
      continue;
    }
    unknownFields(child, `${pointer}/${key}`, log, found);
  }
  return found;
}

function valueAt(object, pointer) {
  return pointer
    .split("/")
    .slice(1)
    .reduce((node, key) => (node == null ? undefined : node[key.replaceAll("~1", "/").replaceAll("~0", "~")]), object);
}

// Kustomize writes long base64 (Secret data, a caBundle copied from it) over several
// lines. The API server's decoder (Go's encoding/base64) skips line breaks, so the
// schema's "byte" format is checked on the value without them.
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function isWrappedBase64Error(object, error) {
  if (error.keyword !== "format" || error.params?.format !== "byte") return false;
  const value = valueAt(object, error.instancePath);
  return typeof value === "string" && base64.test(value.replace(/[\r\n]/g, ""));
}

function describe(object) {
  const meta = object?.metadata ?? {};
  return `${object?.kind ?? "?"} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? "?"}`;
}

const problems = [];
const objects = [];
for (const document of parseAllDocuments(readFileSync(inputPath, "utf8"))) {
  for (const issue of [...document.errors, ...document.warnings]) problems.push(`YAML: ${issue.message}`);
  const object = document.toJS();
  if (object == null) continue;
  objects.push(object);
}

const identities = new Map();
for (const object of objects) {
  const name = describe(object);
  const model = await findModel(object.apiVersion, object.kind);
  if (!model) {
    problems.push(`${name}: no schema for apiVersion ${object.apiVersion}, kind ${object.kind}`);
    continue;
  }
  const identity = `${object.apiVersion}/${name}`;
  if (identities.has(identity)) problems.push(`${name}: appears twice`);
  identities.set(identity, true);

  const log = new Map();
  try {
    model.prototype.validate.call(traced(object, "", log));
  } catch (error) {
    const errors = (error.errors ?? []).filter((e) => !isWrappedBase64Error(object, e));
    for (const e of errors) problems.push(`${name}: ${e.instancePath || "/"} ${e.message}`);
    if (!error.errors) problems.push(`${name}: ${error.message}`);
  }
  for (const field of unknownFields(object, "", log, [])) {
    problems.push(`${name}: unknown field ${field}`);
  }
}

writeFileSync(outputPath, JSON.stringify(objects, null, 1));
for (const problem of problems) console.log(problem);
console.log(`${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
