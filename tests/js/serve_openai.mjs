// tests/js/serve_openai.mjs — the official `openai` npm client against `longread serve`
// (tests/cli_serve.sh): node serve_openai.mjs URL MODEL KEY.  Lists the models, asks a
// chat question whole and streamed, and a completion, all greedy; prints one JSON object
// with what came back, for the shell test to check.  Exit 1 on any client error.
import OpenAI from "openai";

const [url, model, key] = process.argv.slice(2);
const client = new OpenAI({ baseURL: url + "/v1", apiKey: key || "none", maxRetries: 0, timeout: 60000 });
const messages = [{ role: "user", content: "What is beta?" }];
const out = {};

try {
	const list = await client.models.list();
	out.models = list.data.map((m) => m.id);

	const whole = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 12, seed: 1 });
	out.whole = {
		id: whole.id, object: whole.object, text: whole.choices[0].message.content,
		finish: whole.choices[0].finish_reason, usage: whole.usage,
	};

	const stream = await client.chat.completions.create({
		model, messages, temperature: 0, max_tokens: 12, stream: true, stream_options: { include_usage: true },
	});
	let text = "", chunks = 0, finish = null, usage = null, object = null;
	for await (const chunk of stream) {
		chunks++;
		object = chunk.object;
		if (chunk.choices.length) {
			text += chunk.choices[0].delta.content ?? "";
			finish = chunk.choices[0].finish_reason ?? finish;
		}
		if (chunk.usage) usage = chunk.usage;
	}
	out.stream = { text, chunks, finish, usage, object };

	const c = await client.completions.create({ model, prompt: "The agreement renews", max_tokens: 5, temperature: 0 });
	out.completion = { object: c.object, text: c.choices[0].text, finish: c.choices[0].finish_reason, usage: c.usage };
} catch (e) {
	console.error(`openai client: ${e.status ?? ""} ${e.message}`);
	process.exit(1);
}
console.log(JSON.stringify(out));
