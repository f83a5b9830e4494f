/**
 * A fleet's targets in the panels (issue 14, docs/fleet.md section 4): one health chip per target in the
 * status bar (one summary past CHIP_LIMIT, the chips behind it), the spawn prompt's target picker
 * ("automatic" by default, the relay's pick policy in its title) and the control panel's target filter.
 * Each renders nothing with one target: a single-container page looks exactly as it did.
 */
import { useMemo } from 'react';
import { useHive, useHiveStore } from '../state/react.js';
import { CHIP_LIMIT, PICK_POLICY, chipSummary, graphTargets, isFleet, orderedTargets, targetChip, worstTone, type ChipTone, type TargetChip } from '../state/targets.js';
import { TARGET_NAME_RE } from '../../shared/index.js';

const PILL: Record<ChipTone, string> = { ok: 'pill-ok', warn: 'pill-warn', down: 'pill-bad', gone: 'pill-off' };

function Chip(props: { chip: TargetChip }) {
  const { chip } = props;
  return (
    <span className={`pill ${PILL[chip.tone]}`} data-testid="target-chip" data-target={chip.name} data-state={chip.state} data-tone={chip.tone} title={chip.detail}>
      <span className="dot" aria-hidden="true" />
      {chip.name}: {chip.state}
    </span>
  );
}

/** The status bar's target chips; nothing with one target. */
export function TargetChips() {
  const targets = useHive((s) => s.targets);
  const chips = useMemo(() => targets.map(targetChip), [targets]);
  if (chips.length <= 1) return null;
  if (chips.length <= CHIP_LIMIT) {
    return (
      <span className="target-chips" role="group" aria-label="Fleet targets">
        {chips.map((c) => (
          <Chip key={c.name} chip={c} />
        ))}
      </span>
    );
  }
  // Many targets: one summary; the chips open under it (a native disclosure: keyboard and screen readers for free).
  return (
    <details className="target-chips many" data-testid="target-summary">
      <summary className={`pill ${PILL[worstTone(chips)]}`} data-tone={worstTone(chips)}>
        <span className="dot" aria-hidden="true" />
        {chipSummary(chips)}
      </summary>
      <div className="target-chip-list" role="group" aria-label="Fleet targets">
        {chips.map((c) => (
          <Chip key={c.name} chip={c} />
        ))}
      </div>
    </details>
  );
}

/** The names the target filter and picker offer: the relay's targets, then those only the graph still names. */
function useTargetNames(): string[] {
  const targets = useHive((s) => s.targets);
  const agents = useHive((s) => s.agents);
  return useMemo(() => orderedTargets(targets, graphTargets(agents.values())), [targets, agents]);
}

/**
 * The spawn prompt's target picker: "automatic" (value '') or one target, each with its state and running
 * sessions. Nothing with one target (the relay then uses it without being told).
 */
export function TargetPicker(props: { value: string; onChange: (v: string) => void }) {
  const targets = useHive((s) => s.targets);
  if (targets.length <= 1) return null;
  return (
    <label>
      Target
      <select name="target" value={props.value} onChange={(e) => props.onChange(e.target.value)} title={PICK_POLICY} data-testid="target-picker">
        <option value="">automatic</option>
        {targets.map((t) => {
          const c = targetChip(t);
          return (
            <option key={t.name} value={t.name}>
              {t.name} ({c.state}, {t.activeSessions} running)
            </option>
          );
        })}
      </select>
    </label>
  );
}

/** The picker's value as the spawn body's `target`: absent for automatic; a name only when it is a valid one. */
export function pickedTarget(value: string): { target?: string } {
  return value !== '' && TARGET_NAME_RE.test(value) ? { target: value } : {};
}

/** The control panel's filter by target; nothing with one target. */
export function TargetFilter() {
  const store = useHiveStore();
  const names = useTargetNames();
  const filter = useHive((s) => s.targetFilter);
  // A filter set while there were several targets stays visible (and clearable) even if only one is left.
  if (!isFleet(names) && filter === null) return null;
  const options = filter !== null && !names.includes(filter) ? [...names, filter] : names;
  return (
    <label>
      Target
      <select value={filter ?? ''} onChange={(e) => store.setState({ targetFilter: e.target.value || null })} data-testid="target-filter">
        <option value="">all</option>
        {options.map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
    </label>
  );
}
