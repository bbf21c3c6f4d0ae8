// Checks answers Vigie gives Coral Talk's external moderation phase against the validation
// Coral applies to them before it uses them (Coral 9.x's custom moderation phase): a joi
// schema written here from that contract, with Coral's options (unknown keys stripped, every
// key optional, all errors reported). One invalid value and Coral drops the whole answer.
//
//   node tests/e2e/coral-response.mjs answers.json
// where answers.json is an object {"<case name>": <answer>, …}. Prints one line per case;
// exits 1 if any answer would be thrown away or says nothing Coral can act on.
import { readFileSync } from "node:fs";
import Joi from "joi";

const STATUSES = ["NONE", "APPROVED", "REJECTED", "PREMOD", "SYSTEM_WITHHELD"];
const REJECTION_CODES = [
  "OFFENSIVE", "ABUSIVE", "SPAM", "BANNED_WORD", "AD", "ILLEGAL_CONTENT",
  "HARASSMENT_BULLYING", "MISINFORMATION", "HATE_SPEECH", "IRRELEVANT_CONTENT", "OTHER",
];
const FLAG_REASONS = ["COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"];
const TAGS = ["FEATURED", "STAFF"];

// Text fields: joi strings refuse "" and null unless told otherwise, as Coral's do.
const answerSchema = Joi.object().keys({
  moderationAction: Joi.object().keys({
    status: Joi.string().valid(...STATUSES),
    rejectionReason: Joi.object().keys({
      code: Joi.string().valid(...REJECTION_CODES).required(),
      legalGrounds: Joi.string(),
      detailedExplanation: Joi.string(),
      customReason: Joi.string(),
    }),
  }),
  status: Joi.string().valid(...STATUSES),
  actions: Joi.array().items(
    Joi.object().keys({
      actionType: Joi.string().valid("FLAG").required(),
      reason: Joi.string().valid(...FLAG_REASONS).required(),
    }),
  ),
  // A required item: the array must hold at least one tag when it is present.
  tags: Joi.array().items(Joi.string().valid(...TAGS).required()),
});

const options = { stripUnknown: true, presence: "optional", abortEarly: false };

const file = process.argv[2];
if (!file) {
  console.error("usage: node coral-response.mjs answers.json");
  process.exit(2);
}
const answers = JSON.parse(readFileSync(file, "utf8"));
let failed = 0;
for (const [name, answer] of Object.entries(answers)) {
  const text = JSON.stringify(answer);
  // Coral reads exactly "{}" (or an empty body) as "no opinion" and validates nothing.
  if (text === "{}") {
    console.log(`ok   ${name}: no opinion`);
    continue;
  }
  const { value, error } = answerSchema.validate(answer, options);
  if (error) {
    failed += 1;
    console.log(`FAIL ${name}: ${error.message} in ${text}`);
    continue;
  }
  // Keys Coral strips would be lost silently: Vigie should not send them.
  if (JSON.stringify(value) !== text) {
    failed += 1;
    console.log(`FAIL ${name}: Coral keeps only ${JSON.stringify(value)} of ${text}`);
    continue;
  }
  if (!value.status && !value.moderationAction) {
    failed += 1;
    console.log(`FAIL ${name}: valid but without a status: ${text}`);
    continue;
  }
  console.log(`ok   ${name}: ${value.status}`);
}
console.log(`${Object.keys(answers).length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
