/* book/multipage.js - the multi-page HTML book's script (build/book/html/
 * book.js): the contents drawer on a narrow screen, the search box, and
 * the arrow keys for previous/next. No network: the search index is
 * search-index.js beside the pages (book/multipage.py writes it), loaded
 * the first time a search is made. A page opened as PAGE.html#search=WORDS
 * shows the results for WORDS at once. */
(function () {
	"use strict";
	var root = document.documentElement;
	root.classList.add("js");

	var toggle = document.getElementById("toc-toggle");
	var sidebar = document.getElementById("sidebar");
	var input = document.getElementById("search");
	var panel = document.getElementById("search-results");

	function setDrawer(open) {
		root.classList.toggle("toc-open", open);
		toggle.setAttribute("aria-expanded", open ? "true" : "false");
	}
	toggle.addEventListener("click", function () {
		setDrawer(!root.classList.contains("toc-open"));
	});
	sidebar.addEventListener("click", function (e) {
		if (e.target.closest && e.target.closest("a")) setDrawer(false);
	});
	var current = sidebar.querySelector("li.current");
	if (current && current.scrollIntoView) current.scrollIntoView({ block: "nearest" });

	/* The index: [url, chapter, section, text] per section. */
	var index = null;
	var waiting = [];
	function withIndex(then) {
		if (index) return then();
		waiting.push(then);
		if (waiting.length > 1) return;
		var s = document.createElement("script");
		s.src = "search-index.js";
		s.onload = function () {
			index = window.BOOK_SEARCH || [];
			var w = waiting;
			waiting = [];
			w.forEach(function (f) { f(); });
		};
		s.onerror = function () {
			panel.hidden = false;
			panel.textContent = "The search index (search-index.js) could not be loaded.";
		};
		document.head.appendChild(s);
	}

	function terms(query) {
		return query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
	}

	function count(hay, term) {
		var n = 0;
		for (var at = hay.indexOf(term); at >= 0 && n < 50; at = hay.indexOf(term, at + term.length)) n++;
		return n;
	}

	/* Every section that has all the words; in the title counts most. */
	function search(query) {
		var words = terms(query);
		var found = [];
		if (!words.length) return found;
		index.forEach(function (e) {
			var title = (e[2] + " " + e[1]).toLowerCase();
			var text = e[3].toLowerCase();
			var score = 0;
			for (var i = 0; i < words.length; i++) {
				var inTitle = count(title, words[i]);
				var inText = count(text, words[i]);
				if (!inTitle && !inText) return;
				score += 20 * inTitle + inText;
			}
			found.push({ entry: e, score: score });
		});
		found.sort(function (a, b) { return b.score - a.score; });
		return found;
	}

	/* Text with each word marked, as DOM nodes (never as HTML). */
	function marked(parent, text, words) {
		var lower = text.toLowerCase();
		var at = 0;
		while (at < text.length) {
			var next = -1, len = 0;
			words.forEach(function (w) {
				var i = lower.indexOf(w, at);
				if (i >= 0 && (next < 0 || i < next)) { next = i; len = w.length; }
			});
			if (next < 0) break;
			parent.appendChild(document.createTextNode(text.slice(at, next)));
			var m = document.createElement("mark");
			m.textContent = text.slice(next, next + len);
			parent.appendChild(m);
			at = next + len;
		}
		parent.appendChild(document.createTextNode(text.slice(at)));
	}

	function excerpt(text, words) {
		var lower = text.toLowerCase();
		var at = -1;
		words.forEach(function (w) {
			var i = lower.indexOf(w);
			if (i >= 0 && (at < 0 || i < at)) at = i;
		});
		if (at < 0) return text.slice(0, 160) + (text.length > 160 ? " …" : "");
		var start = Math.max(0, at - 70);
		var end = Math.min(text.length, at + 110);
		return (start > 0 ? "… " : "") + text.slice(start, end) + (end < text.length ? " …" : "");
	}

	function show(query) {
		var words = terms(query);
		if (!words.length) {
			panel.hidden = true;
			panel.textContent = "";
			root.classList.remove("searching");
			return;
		}
		var found = search(query);
		panel.textContent = "";
		var h = document.createElement("h2");
		h.textContent = found.length
			? found.length + (found.length === 1 ? " section mentions “" : " sections mention “") + query.trim() + "”"
			: "No section mentions “" + query.trim() + "”";
		panel.appendChild(h);
		var list = document.createElement("ol");
		found.slice(0, 50).forEach(function (f) {
			var e = f.entry;
			var li = document.createElement("li");
			var a = document.createElement("a");
			a.href = e[0];
			a.textContent = e[2] === e[1] ? e[1] : e[1] + " › " + e[2];
			li.appendChild(a);
			var p = document.createElement("p");
			marked(p, excerpt(e[3], words), words);
			li.appendChild(p);
			list.appendChild(li);
		});
		panel.appendChild(list);
		panel.hidden = false;
		root.classList.add("searching");
	}

	var timer = null;
	input.addEventListener("input", function () {
		clearTimeout(timer);
		timer = setTimeout(function () { withIndex(function () { show(input.value); }); }, 120);
	});
	input.addEventListener("keydown", function (e) {
		if (e.key === "Escape") {
			input.value = "";
			show("");
			input.blur();
		}
	});
	/* A result on this same page: leave the results for the section. */
	panel.addEventListener("click", function (e) {
		var a = e.target.closest && e.target.closest("a");
		if (a && a.pathname === location.pathname) {
			input.value = "";
			show("");
		}
	});

	function fromHash() {
		var m = location.hash.match(/^#search=(.*)$/);
		if (!m) return;
		var query = decodeURIComponent(m[1].replace(/\+/g, " "));
		input.value = query;
		withIndex(function () { show(query); });
	}
	window.addEventListener("hashchange", fromHash);
	fromHash();

	/* "/" or "s" to search; the arrow keys for the previous/next page. */
	document.addEventListener("keydown", function (e) {
		if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
		var t = e.target.tagName;
		if (t === "INPUT" || t === "TEXTAREA" || e.target.isContentEditable) return;
		if (e.key === "/" || e.key === "s") {
			e.preventDefault();
			input.focus();
			return;
		}
		var rel = e.key === "ArrowLeft" ? "prev" : e.key === "ArrowRight" ? "next" : null;
		if (!rel) return;
		var link = document.querySelector('link[rel="' + rel + '"]');
		if (link) location.href = link.href;
	});
})();
