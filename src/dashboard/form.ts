// A human task's form (its JSON Schema, docs/forms.md) as HTML inputs, and
// the submitted fields back into the answer. An object's properties get an
// input each by type (enum → select, boolean → checkbox, number → number,
// string with format date → date); anything else is edited as JSON in a
// textarea. The database checks the answer (complete_task, RF066); this
// only shapes it.
import { type Html, html } from "./html.js";

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  title?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
};

const typeOf = (s: Schema) => (Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type);

const isFlatObject = (s: unknown): s is Schema & { properties: Record<string, Schema> } =>
  typeof s === "object" &&
  s !== null &&
  typeOf(s as Schema) === "object" &&
  typeof (s as Schema).properties === "object";

export function formFields(form: unknown): Html {
  if (!isFlatObject(form)) {
    return html`<label>Answer (JSON)<textarea name="__json" rows="4">{}</textarea></label>`;
  }
  const required = new Set(form.required ?? []);
  return html`${Object.entries(form.properties).map(([name, s]) => {
    const label = s.title ?? name;
    const req = required.has(name) ? html` required` : "";
    const help = s.description ? html`<small>${s.description}</small>` : "";
    const field = `f.${name}`;
    let input: Html;
    if (Array.isArray(s.enum)) {
      input = html`<select name="${field}" ${req}>
        ${required.has(name) ? "" : html`<option value=""></option>`}${s.enum.map(
          (v) => html`<option value="${JSON.stringify(v)}">${String(v)}</option>`,
        )}
      </select>`;
    } else if (typeOf(s) === "boolean") {
      input = html`<input type="checkbox" name="${field}" value="true" />`;
    } else if (typeOf(s) === "number" || typeOf(s) === "integer") {
      input = html`<input
        type="number"
        name="${field}"
        step="${typeOf(s) === "integer" ? "1" : "any"}"
        ${s.minimum === undefined ? "" : html` min="${s.minimum}"`}${s.maximum === undefined ? "" : html` max="${s.maximum}"`}${req}
      />`;
    } else if (typeOf(s) === "string") {
      const type = s.format === "date" ? "date" : s.format === "email" ? "email" : "text";
      input = html`<input type="${type}" name="${field}" ${req} />`;
    } else {
      input = html`<textarea name="${field}" rows="2" placeholder="JSON"></textarea>`;
    }
    return html`<label data-field="${name}">${label} ${input} ${help}</label>`;
  })}`;
}

/** The answer from the submitted fields (see formFields). */
export function answerFrom(form: unknown, fields: Record<string, string>): unknown {
  if (!isFlatObject(form)) return JSON.parse(fields.__json ?? "null");
  const answer: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(form.properties)) {
    const value = fields[`f.${name}`];
    const type = typeOf(s);
    if (type === "boolean") {
      answer[name] = value === "true";
      continue;
    }
    if (value === undefined || value === "") continue;
    if (Array.isArray(s.enum)) answer[name] = JSON.parse(value);
    else if (type === "number" || type === "integer") answer[name] = Number(value);
    else if (type === "string") answer[name] = value;
    else answer[name] = JSON.parse(value);
  }
  return answer;
}
