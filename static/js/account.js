// The account page (#/account), for every user: password, theme, player settings.
//
// - Password: POST /api/v1/me/password with this browser session (and its CSRF token);
//   the server checks the current password and Django's validators, and keeps this
//   session signed in.
// - Theme: system, light or dark, stored with the user's settings (account.settings.*)
//   and applied at once here; the server puts it on <html> for the next page load.
// - Player settings: the other settings the server returns (e.g. ReplayGain), each a
//   choice saved the same way.

import { bus } from "./bus.js";
import { session } from "./session.js";
import { clear, h, spinner, toast } from "./ui.js";

const THEMES = [["system", "As the system"], ["light", "Light"], ["dark", "Dark"]];
// Player settings the page knows how to offer; a setting the server does not return is not shown.
const PLAYER_SETTINGS = {
  replaygain: { label: "Loudness levelling (ReplayGain)", choices: [["off", "Off"], ["track", "Per track"], ["album", "Per album"]] },
};

export function applyTheme(theme) {
  const root = document.documentElement;
  for (const [name] of THEMES) root.classList.toggle(`theme-${name}`, name === theme);
}

function csrfToken() {
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

async function changePassword(current, next) {
  const response = await fetch("/api/v1/me/password", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ current_password: current, new_password: next }),
  });
  if (response.ok) return;
  const body = await response.json().catch(() => ({}));
  const error = body.error || {};
  throw Object.assign(new Error(error.message || `The server answered ${response.status}.`), { details: error.details || [] });
}

function field(label, input) {
  return h("label.field", h("span", label), input);
}

function passwordSection() {
  const current = h("input#acct-current", { type: "password", autocomplete: "current-password", required: true });
  const next = h("input#acct-new", { type: "password", autocomplete: "new-password", required: true });
  const again = h("input#acct-again", { type: "password", autocomplete: "new-password", required: true });
  const errors = h("div#acct-password-error.form-error", { role: "alert" });
  const save = h("button#acct-password-save.btn.primary", { type: "submit" }, "Change password");
  const form = h("form#acct-password.account-form", {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(errors);
      if (next.value !== again.value) {
        errors.append(h("p", "The new passwords differ."));
        again.focus();
        return;
      }
      save.disabled = true;
      try {
        await changePassword(current.value, next.value);
        form.reset();
        toast("Password changed. Your other browsers will need to sign in again.");
      } catch (err) {
        const problems = err.details.length ? err.details.map((d) => d.problem) : [err.message];
        for (const problem of problems) errors.append(h("p", problem));
        (err.details.some((d) => d.field === "current_password") ? current : next).focus();
      } finally {
        save.disabled = false;
      }
    },
  },
  field("Current password", current),
  field("New password", next),
  field("New password again", again),
  errors,
  h("div.actions", save));
  return h("section.account-section", h("h2", "Password"), form);
}

function choiceGroup(name, label, choices, value, onPick) {
  return h("fieldset.choice-group", { id: `acct-${name}` },
    h("legend", label),
    choices.map(([choice, text]) => h("label.choice",
      h("input", { type: "radio", name: `acct-${name}`, value: choice, checked: choice === value, onchange: () => onPick(choice) }),
      h("span", text))));
}

export async function accountView(view) {
  clear(view, h("div.view-head", h("h1", "Account")), spinner());
  let settings = {};
  try {
    settings = await bus.request("account.settings.get");
  } catch (err) {
    toast(err.message, "error");
  }
  const save = async (name, value) => {
    try {
      settings = await bus.request("account.settings.update", { [name]: value });
      if (name === "theme") applyTheme(settings.theme);
      toast("Saved");
    } catch (err) {
      toast(err.message, "error");
    }
  };
  const player = Object.entries(PLAYER_SETTINGS).filter(([name]) => name in settings);
  clear(view,
    h("div.view-head", h("h1", "Account")),
    h("p.muted", "Signed in as ", h("strong", session.user.username), ". These settings are the same on all your devices."),
    passwordSection(),
    h("section.account-section", h("h2", "Appearance"),
      choiceGroup("theme", "Theme", THEMES, settings.theme || "system", (theme) => {
        applyTheme(theme);
        save("theme", theme);
      })),
    player.length
      ? h("section.account-section", h("h2", "Player"),
        player.map(([name, spec]) => choiceGroup(name, spec.label, spec.choices, settings[name], (value) => save(name, value))))
      : null);
}
