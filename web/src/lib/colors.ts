/** One colour per face, the same in the picture, the table and the crops. */
const PALETTE = ['#22d3ee', '#f59e0b', '#a78bfa', '#34d399', '#f472b6', '#60a5fa', '#facc15', '#fb7185', '#4ade80', '#c084fc'];

export const faceColor = (index: number) => PALETTE[index % PALETTE.length];

export const MATCH_COLOR = '#22c55e';
export const NO_MATCH_COLOR = '#94a3b8';
export const SPOOF_COLOR = '#ef4444';
