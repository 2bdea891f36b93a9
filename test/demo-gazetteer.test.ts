import { expect, it } from 'vitest';
import { demoGazetteer, demoHouseholdInputs } from '../scripts/demo';

// npm start hands the notice board the demo's gazetteer: every township and village a demo
// household lives in must have a name there, or the board prints "村 411325105201" to villagers.
it('names every township and village of the demo households', () => {
  const names = demoGazetteer();
  const missing = demoHouseholdInputs()
    .flatMap((h) => [h.villageCode, h.villageCode.slice(0, 9)])
    .filter((code) => !(code in names));
  expect(missing).toEqual([]);
  expect(Object.values(names).every((name) => /[镇乡村]$/.test(name))).toBe(true);
});
