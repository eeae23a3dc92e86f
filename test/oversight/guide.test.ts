import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReflectionPrompt } from '../../src/evolve/reflection-prompt.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { strataProcess } from '../helpers/strata-process.ts';
import { config, makeRepo } from '../helpers/study-repo.ts';
import { ledgerOf, scripted, studyYaml, trainer } from './oversight-fixtures.ts';

describe('strata guide', () => {
  it('adds, lists and retires notes; a note is shown without its control sequences; errors name the fix', async () => {
    const yaml = studyYaml({ maxTrials: 2 });
    const repo = makeRepo({ 'train.mjs': trainer(3), 'strata.yaml': yaml });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml), proposer: scripted([{ description: 'x = 2', train: trainer(2) }]) });
    expect((await strataProcess(repo, ['guide', 'leave the tokenizer alone'])).stdout).toMatch(/^note 1 added to study steer; the next proposal reads it/);
    expect((await strataProcess(repo, ['guide', 'evil \u001b]0;pwned\u0007 title', '--author', 'eve'])).code).toBe(0);
    expect((await strataProcess(repo, ['guide', '--retire', '1'])).stdout).toMatch(/^retired note 1 of study steer/);
    const list = await strataProcess(repo, ['guide', '--list']);
    expect(list.stdout).toMatch(/ 1 .* \(cli\) · retired .*\n {5}leave the tokenizer alone\n +2 .* eve \(cli\) · active\n {5}evil .*title/);
    expect(list.stdout).not.toContain('\u001b');
    for (const [args, message] of [
      [['guide', '--retire', '7'], /no note 7 in this study; its notes are 1–2/],
      [['guide', '--retire', '1'], /note 1 was retired already/],
      [['guide'], /give one of: a note in quotes/],
    ] as const) {
      const refused = await strataProcess(repo, [...args]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(message);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    }
    // The next proposal reads only the active note.
    const seen: Parameters<typeof scripted>[1] = [];
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(studyYaml({ maxTrials: 3 })), proposer: scripted([{ description: 'x = 1.5', train: trainer(1.5) }], seen, 2) });
    expect(seen[0]!.guidance!.notes.map((note) => note.id)).toEqual([2]);
    const ledger = ledgerOf(repo);
    expect(ledger.trialBySeq(1, 2)!.meta?.guidance).toMatchObject({ notes: [2], program: null });
    ledger.close();
  }, 60_000);

  it("evolve's reflection prompt carries the active notes, also with a custom template", () => {
    const notes = [{ id: 3, text: 'answers must cite the page', author: 'ada' }];
    const prompt = buildReflectionPrompt({ component: 'system', currentText: 'Be brief.', records: [], rejected: [], notes });
    expect(prompt).toContain('Notes from the researcher (follow them; they take precedence):\n- [note 3, ada] answers must cite the page');
    const custom = buildReflectionPrompt({ template: 'Improve {component}: {current_text}\n{rejected}', component: 'system', currentText: 'Be brief.', records: [], rejected: [], notes });
    expect(custom).toContain('[note 3, ada] answers must cite the page');
    expect(buildReflectionPrompt({ component: 'system', currentText: 'Be brief.', records: [], rejected: [] })).not.toContain('Notes from the researcher');
  });
});
