// A task's form as inputs and the submitted fields back as the answer
// (src/dashboard/form.ts): each type of the docs/forms.md subset.
import { describe, expect, it } from "vitest";

import { answerFrom, formFields } from "../../src/dashboard/form.js";

const form = {
  type: "object",
  required: ["decision", "amount"],
  properties: {
    decision: { enum: ["approve", "reject"], title: "Decision" },
    amount: { type: "integer", minimum: 1 },
    ratio: { type: ["number", "null"] },
    urgent: { type: "boolean" },
    due: { type: "string", format: "date" },
    note: { type: "string", description: "Why <not>?" },
    tags: { type: "array", items: { type: "string" } },
  },
};

describe("task forms", () => {
  it("renders one input per property by its type, escaped", () => {
    // Whitespace and self-closing slashes aside (prettier formats the templates).
    const text = formFields(form)
      .text.replace(/\s+/g, " ")
      .replace(/\s*\/?>/g, ">");
    expect(text).toContain('<select name="f.decision" required>');
    expect(text).toContain('<option value="&quot;approve&quot;">approve</option>');
    expect(text).toContain('<input type="number" name="f.amount" step="1" min="1" required>');
    expect(text).toContain('<input type="number" name="f.ratio" step="any">');
    expect(text).toContain('<input type="checkbox" name="f.urgent" value="true">');
    expect(text).toContain('<input type="date" name="f.due">');
    expect(text).toContain("<small>Why &lt;not&gt;?</small>");
    expect(text).toContain('<textarea name="f.tags"');
  });

  it("turns the fields back into the answer: typed, empty ones left out", () => {
    expect(
      answerFrom(form, {
        "f.decision": '"reject"',
        "f.amount": "3",
        "f.ratio": "",
        "f.due": "2026-12-04",
        "f.note": "no budget",
        "f.tags": '["a","b"]',
      }),
    ).toEqual({
      decision: "reject",
      amount: 3,
      urgent: false,
      due: "2026-12-04",
      note: "no budget",
      tags: ["a", "b"],
    });
  });

  it("edits any other form as one JSON answer", () => {
    expect(formFields({ type: "string" }).text).toContain('name="__json"');
    expect(answerFrom({ type: "string" }, { __json: '"yes"' })).toBe("yes");
  });
});
