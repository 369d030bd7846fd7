// The demo page's own script. It never imports the element: index.html loads the drop-in
// `rtc-audio-player.js` like any page would, and this file only talks to the element's public
// API (attributes, properties, methods, events, `timing`).
import type { TrackInfo } from '../components/protocol.js';

/** The public surface of `<rtc-audio-player>` this page uses (kept structural on purpose). */
interface PlayerElement extends HTMLElement {
  src: string;
  play(): Promise<void>;
  pause(): void;
  stop(): void;
  readonly paused: boolean;
  readonly state: string;
  readonly currentTime: number;
  readonly duration: number;
  volume: number;
  muted: boolean;
  readonly timing?: Readonly<Record<string, unknown>>;
  readonly bufferedSeconds?: number;
  readonly memory?: Readonly<{ compressedBytes: number; pcmBytes: number }>;
  readonly stats?: Readonly<{ bytesReceived: number; reconnects: number; discontinuities: number }>;
}

const PLAYER_EVENTS = [
  'statechange',
  'play',
  'playing',
  'pause',
  'waiting',
  'progress',
  'timeupdate',
  'durationchange',
  'volumechange',
  'ended',
  'emptied',
  'error',
] as const;
const NOISY_EVENTS = new Set(['timeupdate', 'progress']);
const LOG_LIMIT = 200;

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`demo: #${id} missing from index.html`);
  return element as T;
}

const ui = {
  trackSelect: byId<HTMLSelectElement>('track-select'),
  trackStatus: byId('track-status'),
  mainSlot: byId('main-slot'),
  themedSlot: byId('themed-slot'),
  buffer: byId<HTMLSelectElement>('attr-buffer'),
  preload: byId<HTMLSelectElement>('attr-preload'),
  retries: byId<HTMLInputElement>('attr-retries'),
  state: byId('prop-state'),
  paused: byId('prop-paused'),
  time: byId('prop-time'),
  volume: byId<HTMLInputElement>('prop-volume'),
  volumeOut: byId<HTMLOutputElement>('prop-volume-out'),
  muted: byId<HTMLInputElement>('prop-muted'),
  buffered: byId('prop-buffered'),
  memory: byId('prop-memory'),
  stats: byId('prop-stats'),
  play: byId<HTMLButtonElement>('call-play'),
  pause: byId<HTMLButtonElement>('call-pause'),
  stop: byId<HTMLButtonElement>('call-stop'),
  timingBody: byId('timing-body'),
  log: byId<HTMLOListElement>('event-log'),
  logNoisy: byId<HTMLInputElement>('log-timeupdate'),
  logClear: byId<HTMLButtonElement>('log-clear'),
};

let mainPlayer: PlayerElement | undefined;
const pageStart = performance.now();

// ---------------------------------------------------------------------------------------------
// Event log

function describe(event: Event): string {
  if (event.type === 'statechange' && event instanceof CustomEvent) {
    const detail = event.detail as { previous?: string; state?: string } | null;
    return `${detail?.previous ?? '?'} → ${detail?.state ?? '?'}`;
  }
  if (event instanceof ErrorEvent) {
    const error = event.error as { code?: string; fatal?: boolean } | undefined;
    return `${error?.code ?? ''} ${event.message}${error?.fatal ? ' (fatal)' : ''}`.trim();
  }
  if (event instanceof ProgressEvent) {
    const total = event.lengthComputable ? ` / ${formatBytes(event.total)}` : '';
    return `${formatBytes(event.loaded)}${total}`;
  }
  const player = event.currentTarget as PlayerElement | null;
  if (event.type === 'timeupdate' && player) return `${player.currentTime.toFixed(2)} s`;
  if (event.type === 'durationchange' && player) return `${formatSeconds(player.duration)}`;
  if (event.type === 'volumechange' && player) return `${player.volume.toFixed(2)}${player.muted ? ' muted' : ''}`;
  return '';
}

function logEvent(label: string, event: Event): void {
  if (NOISY_EVENTS.has(event.type) && !ui.logNoisy.checked) return;
  const item = document.createElement('li');
  item.className = `log-${event.type}`;
  const at = ((performance.now() - pageStart) / 1000).toFixed(3);
  item.innerHTML = `<time></time> <span class="who"></span> <strong></strong> <span class="what"></span>`;
  item.querySelector('time')!.textContent = `${at} s`;
  item.querySelector('.who')!.textContent = label;
  item.querySelector('strong')!.textContent = event.type;
  item.querySelector('.what')!.textContent = describe(event);
  ui.log.prepend(item);
  while (ui.log.children.length > LOG_LIMIT) ui.log.lastElementChild?.remove();
}

function watch(player: PlayerElement, label: string): void {
  for (const name of PLAYER_EVENTS) player.addEventListener(name, (event) => logEvent(label, event));
}

// ---------------------------------------------------------------------------------------------
// Players

function createPlayer(src: string, attributes: Record<string, string>): PlayerElement {
  const player = document.createElement('rtc-audio-player') as PlayerElement;
  for (const [name, value] of Object.entries(attributes)) if (value !== '') player.setAttribute(name, value);
  player.setAttribute('src', src);
  return player;
}

function mountMainPlayer(): void {
  const src = ui.trackSelect.value;
  if (!src) return;
  mainPlayer?.remove(); // disconnecting releases its connection (element contract)
  mainPlayer = createPlayer(src, {
    'buffer-seconds': ui.buffer.value,
    preload: ui.preload.value,
    'max-retries': ui.retries.value,
  });
  mainPlayer.id = 'main-player';
  mainPlayer.volume = Number(ui.volume.value);
  watch(mainPlayer, 'player');
  mainPlayer.addEventListener('playing', () => renderTiming());
  mainPlayer.addEventListener('statechange', () => renderTiming());
  ui.mainSlot.replaceChildren(mainPlayer);
  renderTiming();
}

// ---------------------------------------------------------------------------------------------
// Properties and timing, redrawn each frame while visible (cheap: a few text nodes)

function renderProperties(): void {
  const player = mainPlayer;
  if (player) {
    ui.state.textContent = String(player.state ?? '–');
    ui.paused.textContent = String(player.paused ?? '–');
    ui.time.textContent = `${formatSeconds(player.currentTime)} / ${formatSeconds(player.duration)}`;
    ui.volume.value = String(player.volume ?? 1);
    ui.volumeOut.value = Number(player.volume ?? 1).toFixed(2);
    ui.muted.checked = Boolean(player.muted);
    ui.buffered.textContent = player.bufferedSeconds === undefined ? '–' : `${player.bufferedSeconds.toFixed(1)} s`;
    const memory = player.memory;
    ui.memory.textContent = memory ? `${kib(memory.compressedBytes)} compressed + ${kib(memory.pcmBytes)} PCM` : '–';
    const stats = player.stats;
    ui.stats.textContent = stats ? `${kib(stats.bytesReceived)} received, ${stats.reconnects} reconnects, ${stats.discontinuities} discontinuities` : '–';
  }
  requestAnimationFrame(renderProperties);
}

const kib = (bytes: number): string => `${Math.round(bytes / 1024).toLocaleString()} KiB`;

/** Numeric marks of `timing`, relative to its earliest mark, in time order. */
function timingRows(timing: Readonly<Record<string, unknown>> | undefined): [string, number][] {
  if (!timing) return [];
  const marks = Object.entries(timing).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]));
  marks.sort((a, b) => a[1] - b[1]);
  // Marks are performance.now() values. Relative to play(); a pre-connection (preload) shows as
  // negative: that work was done before the user pressed play.
  const requested = timing.playRequested;
  const origin = typeof requested === 'number' ? requested : (marks[0]?.[1] ?? 0);
  return marks.map(([name, value]) => [name, value - origin]);
}

function renderTiming(): void {
  const rows = timingRows(mainPlayer?.timing);
  if (!rows.length) {
    ui.timingBody.innerHTML = '<tr><td colspan="3" class="muted">press play</td></tr>';
    return;
  }
  // Bars span from the earliest mark to the latest, so pre-connection work is visible too.
  const first = Math.min(0, ...rows.map(([, ms]) => ms));
  const span = Math.max(1, Math.max(...rows.map(([, ms]) => ms)) - first);
  ui.timingBody.replaceChildren(
    ...rows.map(([name, ms]) => {
      const row = document.createElement('tr');
      row.innerHTML = '<th scope="row"><code></code></th><td class="num"></td><td class="bar"><span></span></td>';
      row.querySelector('code')!.textContent = name;
      row.querySelector('.num')!.textContent = ms.toFixed(1);
      const bar = row.querySelector('.bar span') as HTMLElement;
      bar.style.marginInlineStart = `${(100 * (Math.min(ms, 0) - first)) / span}%`;
      bar.style.inlineSize = `${(100 * Math.abs(ms)) / span}%`;
      if (ms < 0) bar.classList.add('before-play');
      return row;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Wiring

function formatSeconds(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const minutes = Math.floor(value / 60);
  return `${minutes}:${(value - minutes * 60).toFixed(2).padStart(5, '0')}`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

async function loadLibrary(): Promise<TrackInfo[]> {
  const response = await fetch('./api/tracks');
  if (!response.ok) throw new Error(`GET /api/tracks: HTTP ${response.status}`);
  return (await response.json()) as TrackInfo[];
}

function bindControls(): void {
  ui.trackSelect.addEventListener('change', mountMainPlayer);
  for (const control of [ui.buffer, ui.preload, ui.retries]) control.addEventListener('change', mountMainPlayer);
  ui.volume.addEventListener('input', () => {
    if (mainPlayer) mainPlayer.volume = Number(ui.volume.value);
  });
  ui.muted.addEventListener('change', () => {
    if (mainPlayer) mainPlayer.muted = ui.muted.checked;
  });
  ui.play.addEventListener('click', () => {
    mainPlayer?.play().catch((error: unknown) => console.warn('play() rejected', error));
  });
  ui.pause.addEventListener('click', () => mainPlayer?.pause());
  ui.stop.addEventListener('click', () => mainPlayer?.stop());
  ui.logClear.addEventListener('click', () => ui.log.replaceChildren());
}

async function main(): Promise<void> {
  bindControls();
  requestAnimationFrame(renderProperties);
  let tracks: TrackInfo[];
  try {
    tracks = await loadLibrary();
  } catch (error) {
    ui.trackStatus.textContent = `could not load the library: ${String(error)}`;
    return;
  }
  ui.trackStatus.textContent = `${tracks.length} track${tracks.length === 1 ? '' : 's'} on the server`;
  for (const track of tracks) {
    const option = document.createElement('option');
    option.value = track.src;
    const length = track.duration !== undefined ? `, ${formatSeconds(track.duration)}` : '';
    option.textContent = `${track.src} (${track.mimeType}, ${formatBytes(track.size)}${length})`;
    ui.trackSelect.append(option);
  }
  if (!tracks.length) return;
  // The MP3 is the showcase; other formats go to the themed player.
  const mainTrack = tracks.find((track) => track.mimeType === 'audio/mpeg') ?? tracks[0]!;
  ui.trackSelect.value = mainTrack.src;
  await customElements.whenDefined('rtc-audio-player');
  mountMainPlayer();
  // The themed player shows a second format when the library has one.
  const themedTrack = tracks.find((track) => track !== mainTrack) ?? mainTrack;
  const themed = createPlayer(themedTrack.src, { preload: 'none' });
  themed.className = 'themed';
  watch(themed, 'themed');
  ui.themedSlot.replaceChildren(themed);
}

void main();
