// The public share page: plays the shared tracks in order in one <audio> element.
// Every URL it uses is under the share's own path: its token is all it has.

const root = document.getElementById("share");
const audio = document.getElementById("share-audio");
const cover = document.getElementById("share-cover");
const buttons = [...document.querySelectorAll(".share-track")];
let current = -1;

function play(index) {
  if (index < 0 || index >= buttons.length) return;
  current = index;
  const button = buttons[index];
  const id = button.dataset.track;
  buttons.forEach((other, i) => other.setAttribute("aria-current", i === index ? "true" : "false"));
  audio.src = `${root.dataset.base}/stream/${id}`;
  if (button.dataset.cover) {
    cover.src = `${root.dataset.base}/cover/${id}?size=256`;
    cover.hidden = false;
  } else {
    cover.hidden = true;
  }
  audio.play().catch(() => {}); // autoplay may be refused until the visitor interacts
}

buttons.forEach((button, index) => button.addEventListener("click", () => play(index)));
audio.addEventListener("ended", () => play(current + 1));
