import { css } from 'lit';

/**
 * Custom-property defaults live on :host so a page themes every player with one rule; each falls
 * back to a default, so nothing needs to be set.
 */
export const playerStyles = css`
  :host {
    --rtc-player-accent: #2563eb;
    --rtc-player-bg: #f8fafc;
    --rtc-player-fg: #0f172a;
    --rtc-player-muted-fg: #475569;
    --rtc-player-error: #b91c1c;
    --rtc-player-radius: 10px;
    --rtc-player-font: system-ui, -apple-system, 'Segoe UI', sans-serif;
    --rtc-player-gap: 0.5rem;
    display: inline-block;
    min-width: 18rem;
    box-sizing: border-box;
    color: var(--rtc-player-fg);
    font-family: var(--rtc-player-font);
    font-size: 0.875rem;
  }
  :host([hidden]) {
    display: none;
  }
  .player {
    display: grid;
    grid-template-columns: auto auto 1fr auto;
    align-items: center;
    gap: var(--rtc-player-gap);
    padding: 0.5rem 0.75rem;
    background: var(--rtc-player-bg);
    border-radius: var(--rtc-player-radius);
    border: 1px solid color-mix(in srgb, var(--rtc-player-fg) 15%, transparent);
  }
  button {
    font: inherit;
    min-width: 2.25rem;
    min-height: 2.25rem;
    border: none;
    border-radius: calc(var(--rtc-player-radius) * 0.6);
    background: var(--rtc-player-accent);
    color: #fff;
    cursor: pointer;
  }
  button:disabled {
    opacity: 0.45;
    cursor: default;
  }
  button:focus-visible {
    outline: 2px solid var(--rtc-player-accent);
    outline-offset: 2px;
  }
  [part='stop-button'] {
    background: color-mix(in srgb, var(--rtc-player-fg) 75%, transparent);
  }
  .meta {
    display: flex;
    flex-direction: column;
    gap: 0.25rem;
    min-width: 0;
  }
  [part='status'] {
    color: var(--rtc-player-muted-fg);
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  [part='progress'] {
    width: 100%;
    height: 0.375rem;
    accent-color: var(--rtc-player-accent);
  }
  [part='time'] {
    font-variant-numeric: tabular-nums;
    white-space: nowrap;
  }
  [part='error'] {
    grid-column: 1 / -1;
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: var(--rtc-player-gap);
    color: var(--rtc-player-error);
  }
  [part='retry-button'] {
    background: var(--rtc-player-error);
    padding: 0 0.75rem;
  }
  [part='gesture-prompt'] {
    grid-column: 1 / -1;
    padding: 0.25rem 0.75rem;
  }
`;
