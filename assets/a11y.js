/*
 * Accessible markup for Dash's own components, on every page.
 *
 * Dash 4 renders a few components in ways screen readers and keyboard users trip over
 * (axe-core reports each as a serious violation).  This script repairs the markup, without
 * changing what the components do, for every such component on the page now and later:
 *
 * - dcc.Dropdown puts a hidden proxy <input aria-hidden="true" tabindex="0"> before its button
 *   and forwards the focus it receives to the button (tabindex="-1").  The proxy is made inert
 *   and the button itself tabbable: Tab lands on the named button directly.
 * - dcc.Slider's thumb (role="slider") has no name: it takes the text of the one <label> of
 *   the row it sits in, and that row's tooltip up to its first ";" (e.g. "η, learning rate").
 * - dcc.RadioItems and dcc.Checklist are a role="listbox" of role="option" labels around real
 *   radio buttons and checkboxes: options that contain a control.  The ARIA roles are removed
 *   (the native controls already say what they are), the group becomes a named radiogroup or
 *   group, named after its <label for=…> or its panel's <summary>.  (An open dropdown's list
 *   has the same markup and is left as it is: there the listbox and its options are right.)
 */
(function () {
  "use strict";

  var PROXY = "input.dash-dropdown-focus-target";
  var THUMB = ".dash-slider-thumb[role='slider']";
  var LIST = ".dash-options-list[role='listbox']";

  function groupName(list) {
    if (list.hasAttribute("aria-label") || list.hasAttribute("aria-labelledby")) return null;
    if (list.id) {
      var label = document.querySelector("label[for='" + CSS.escape(list.id) + "']");
      if (label && label.textContent.trim()) return label.textContent.trim();
    }
    var panel = list.closest("details");
    var summary = panel && panel.querySelector(":scope > summary");
    if (summary && summary.textContent.trim()) return summary.textContent.trim();
    var field = list.parentElement && list.parentElement.querySelector(":scope > label, :scope > .label");
    return field && field.textContent.trim() ? field.textContent.trim() : null;
  }

  // every change is made only when needed: the observer sees this script's own changes too
  function setAttr(el, name, value) {
    if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  function repairDropdown(proxy) {
    if (!proxy.inert) proxy.inert = true;
    setAttr(proxy, "tabindex", "-1");
    var button = proxy.nextElementSibling;
    if (button && button.tagName === "BUTTON") setAttr(button, "tabindex", button.disabled ? "-1" : "0");
  }

  function repairList(list) {
    if (list.classList.contains("dash-dropdown-options")) return; // a dropdown's open list: a real listbox
    var radios = list.querySelector("input[type='radio']") !== null;
    setAttr(list, "role", radios ? "radiogroup" : "group");
    var name = groupName(list);
    if (name) setAttr(list, "aria-label", name);
    list.querySelectorAll(".dash-options-list-option[role='option'], .dash-options-list-option[aria-selected]")
      .forEach(function (option) {
        // a checkbox or radio button states its own selection; Dash puts these back when it toggles
        option.removeAttribute("role");
        option.removeAttribute("aria-selected");
      });
  }

  function thumbName(thumb) {
    for (var row = thumb.parentElement; row && row !== document.body; row = row.parentElement) {
      var labels = row.querySelectorAll("label");
      if (labels.length > 1) return null;
      if (labels.length === 1 && labels[0].textContent.trim()) {
        var name = labels[0].textContent.trim();
        var hint = (row.getAttribute("title") || "").split(";")[0].trim();
        return hint && hint !== name ? name + ", " + hint : name;
      }
    }
    return null;
  }

  function repairThumb(thumb) {
    if (thumb.hasAttribute("aria-labelledby")) return;
    var name = thumbName(thumb);
    if (name) setAttr(thumb, "aria-label", name);
  }

  function repair(root) {
    if (!(root instanceof Element)) return;
    if (root.matches(PROXY)) repairDropdown(root);
    var before = root.previousElementSibling;
    if (before && before.matches(PROXY)) repairDropdown(before);
    root.querySelectorAll(PROXY).forEach(repairDropdown);
    if (root.matches(THUMB)) repairThumb(root);
    root.querySelectorAll(THUMB).forEach(repairThumb);
    var list = root.closest(".dash-options-list");
    if (list) repairList(list);
    root.querySelectorAll(".dash-options-list").forEach(repairList);
  }

  function watch() {
    repair(document.body);
    new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        var r = records[i];
        if (r.type === "attributes") {
          // Dash gives the proxy its tabindex back when the button loses focus; the button gets
          // tabindex -1 again when it is re-rendered; a list's option gets its role back
          repair(r.target);
          continue;
        }
        for (var j = 0; j < r.addedNodes.length; j++) repair(r.addedNodes[j]);
      }
    }).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["tabindex", "role", "disabled", "aria-selected"],
    });
  }

  if (document.body) watch();
  else document.addEventListener("DOMContentLoaded", watch);
})();
