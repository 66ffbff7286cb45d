/*!
 * Trợ lý CCHC — web widget for citizens. Embed it on any page with one line:
 *
 *   <script src="https://cong.example.gov.vn/widget/widget.js"
 *           data-rasa-url="https://tro-ly.example.gov.vn" defer></script>
 *
 * Optional attributes: data-title (panel title), data-socket="off" (REST only),
 * data-storage="local" (keep the conversation after the tab closes; default: this tab only).
 *
 * Talks to Rasa's `socketio` channel (session_request / session_confirm, user_uttered /
 * bot_uttered, session persistence) with the vendored socket.io client; falls back to the
 * `rest` channel when the socket cannot connect. Message text is only ever inserted with
 * textContent / createTextNode — never as HTML.
 */
(function () {
  "use strict";
  if (window.CCHCWidget) return;

  var script = document.currentScript || document.querySelector("script[data-rasa-url]");
  var BASE = script && script.src ? script.src.replace(/[^/]*(\?.*)?$/, "") : "/widget/";
  var attr = function (name, fallback) {
    var value = script && script.getAttribute(name);
    return value === null || value === undefined || value === "" ? fallback : value;
  };
  var RASA_URL = attr("data-rasa-url", window.location.origin).replace(/\/+$/, "");
  var TITLE = attr("data-title", "Trợ lý cải cách hành chính");
  var USE_SOCKET = attr("data-socket", "on") !== "off";
  var STORAGE_KEY = "cchc-widget:" + RASA_URL;
  var MAX_MESSAGES = 150;
  var REPLY_TIMEOUT_MS = 90000;
  var CONNECT_WAIT_MS = 4000;
  var MAX_CHARS = 1000; // the server's MAX_MESSAGE_CHARS default (bot/guard.py)

  var T = {
    launcher: "Hỏi đáp CCHC",
    launcherLabel: "Mở trợ lý hỏi đáp cải cách hành chính",
    subtitle: "Trả lời từ văn bản chính thức, có dẫn nguồn",
    close: "Đóng cửa sổ trò chuyện",
    restart: "Bắt đầu cuộc trò chuyện mới",
    restartText: "Trò chuyện mới",
    inputLabel: "Nhập câu hỏi của bạn",
    placeholder: "Nhập câu hỏi về cải cách hành chính…",
    send: "Gửi",
    sendLabel: "Gửi câu hỏi",
    log: "Nội dung trò chuyện",
    you: "Bạn: ",
    bot: "Trợ lý: ",
    typing: "Trợ lý đang soạn câu trả lời…",
    helpful: "👍 Hữu ích",
    unhelpful: "👎 Chưa hữu ích",
    rateGroup: "Đánh giá câu trả lời",
    rated: "Cảm ơn bạn đã đánh giá câu trả lời.",
    welcome: "Xin chào! Tôi là trợ lý hỏi đáp về cải cách hành chính. Tôi trả lời dựa trên " +
      "các văn bản chính thức và luôn ghi rõ nguồn. Bạn muốn hỏi điều gì?",
    suggestions: [
      "Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?",
      "Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?"
    ],
    noReply: "Trợ lý chưa phản hồi. Bạn vui lòng gửi lại câu hỏi sau ít phút.",
    offline: "Không kết nối được với trợ lý. Bạn vui lòng kiểm tra mạng và thử lại.",
    fallback: "Đang dùng kết nối dự phòng.",
    maxChars: "Câu hỏi dài tối đa 1.000 ký tự.",
    newTab: " (mở trong thẻ mới)",
    openSource: "Mở văn bản được trích dẫn trong thẻ mới"
  };

  // ---- state, kept across reloads ------------------------------------------------------------
  var storage = (function () {
    try {
      var s = attr("data-storage", "session") === "local" ? window.localStorage
        : window.sessionStorage;
      s.setItem("cchc-widget:probe", "1");
      s.removeItem("cchc-widget:probe");
      return s;
    } catch (e) {
      return null; // storage blocked: the conversation lasts as long as the page
    }
  })();

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function loadState() {
    try {
      var data = storage && JSON.parse(storage.getItem(STORAGE_KEY) || "null");
      if (data && typeof data.sessionId === "string" && Array.isArray(data.messages)) return data;
    } catch (e) { /* corrupt entry: start afresh */ }
    return null;
  }

  var state = loadState() || { sessionId: newId(), messages: [], open: false, seq: 0 };

  function saveState() {
    if (!storage) return;
    state.messages = state.messages.slice(-MAX_MESSAGES);
    try { storage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (e) { /* quota: skip */ }
  }

  // ---- DOM helpers (no HTML strings with data, ever) -----------------------------------------
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") node.textContent = props[key];
      else if (key === "className") node.className = props[key];
      else if (key === "hidden") node.hidden = !!props[key];
      else node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  var FEEDBACK = /^\/feedback_(positive|negative)$/;
  var URL_RE = /https?:\/\/[^\s<>"'“”‘’]+/g;
  var TRAILING = /[.,;:!?)\]}»…]+$/;
  // "Nguồn: Quyết định số 1331/QĐ-UBND … (http://…/van-ban/…)": the description becomes the link
  var SOURCE_LINK = /^(.*\S)\s+\((https?:\/\/[^\s()<>"'“”‘’]+)\)$/;

  /** Append `text` to `parent`: plain text nodes, http(s) URLs as links. */
  function appendLinkified(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0].replace(TRAILING, "");
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" });
      link.textContent = url;
      parent.appendChild(link);
      last = match.index + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  /** The source line: the document's description as a link to its address, when it has one. */
  function appendSource(parent, text) {
    var match = SOURCE_LINK.exec(text);
    if (!match) return appendLinkified(parent, text);
    var link = el("a", { href: match[2], target: "_blank", rel: "noopener noreferrer",
      className: "cchc-source-link", title: T.openSource });
    link.appendChild(document.createTextNode(match[1]));
    link.appendChild(el("span", { className: "cchc-external", "aria-hidden": "true", text: "↗" }));
    link.appendChild(el("span", { className: "cchc-sr", text: T.newTab }));
    parent.appendChild(link);
  }

  function isAnswer(text) {
    return /(^|\n)Nguồn:/.test(text) || /không tìm thấy/i.test(text);
  }

  // ---- the widget ----------------------------------------------------------------------------
  var host = el("div", { id: "cchc-widget-host" });
  host.style.display = "none"; // until the stylesheet has loaded (CSSOM, allowed by CSP)
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var sheet = el("link", { rel: "stylesheet", href: BASE + "widget.css" });
  sheet.addEventListener("load", function () { host.style.display = ""; });
  sheet.addEventListener("error", function () { host.style.display = ""; });

  var launcher = el("button", {
    type: "button", className: "cchc-launcher", "aria-expanded": "false",
    "aria-controls": "cchc-panel", "aria-label": T.launcherLabel
  }, [el("span", { className: "cchc-launcher-icon", "aria-hidden": "true", text: "💬" }),
    el("span", { text: T.launcher })]);
  var closeBtn = el("button", { type: "button", className: "cchc-icon-btn cchc-close",
    "aria-label": T.close, title: T.close, text: "✕" });
  var restartBtn = el("button", { type: "button", className: "cchc-text-btn cchc-restart",
    "aria-label": T.restart, title: T.restart, text: T.restartText });
  var log = el("div", { className: "cchc-log", role: "log", "aria-live": "polite",
    "aria-relevant": "additions", "aria-label": T.log, tabindex: "0" });
  var typing = el("div", { className: "cchc-typing", role: "status", hidden: true }, [
    el("span", { className: "cchc-dot", "aria-hidden": "true" }),
    el("span", { className: "cchc-dot", "aria-hidden": "true" }),
    el("span", { className: "cchc-dot", "aria-hidden": "true" }),
    el("span", { className: "cchc-sr", text: T.typing })
  ]);
  var input = el("input", { id: "cchc-input", type: "text", className: "cchc-input",
    autocomplete: "off", maxlength: String(MAX_CHARS), placeholder: T.placeholder,
    enterkeyhint: "send" });
  var sendBtn = el("button", { type: "submit", className: "cchc-send", "aria-label": T.sendLabel,
    text: T.send });
  var form = el("form", { className: "cchc-composer" }, [
    el("label", { for: "cchc-input", className: "cchc-sr", text: T.inputLabel }), input, sendBtn
  ]);
  var status = el("p", { className: "cchc-status", "aria-live": "polite" });
  var panel = el("section", { id: "cchc-panel", className: "cchc-panel", role: "dialog",
    "aria-modal": "false", "aria-labelledby": "cchc-title", hidden: true }, [
    el("header", { className: "cchc-header" }, [
      el("div", { className: "cchc-heading" }, [
        el("h2", { id: "cchc-title", className: "cchc-title", text: TITLE }),
        el("p", { className: "cchc-subtitle", text: T.subtitle })
      ]),
      restartBtn, closeBtn
    ]),
    log, typing, form, status
  ]);
  var container = el("div", { className: "cchc-root" }, [launcher, panel]);
  root.appendChild(sheet);
  root.appendChild(container);

  // ---- rendering -----------------------------------------------------------------------------
  function lastRateable() {
    for (var i = state.messages.length - 1; i >= 0; i--) {
      if (state.messages[i].rateable) return state.messages[i];
    }
    return null;
  }

  function renderBody(bubble, text) {
    text.split("\n").forEach(function (line) {
      var p = el("p", { className: "cchc-line" });
      var label = /^(Nguồn|Trích|Xem):\s*/.exec(line);
      if (label) {
        p.className += " cchc-" + { "Nguồn": "source", "Trích": "quote", "Xem": "link" }[label[1]];
        p.appendChild(el("strong", { text: label[1] + ": " }));
        line = line.slice(label[0].length);
      }
      if (label && label[1] === "Nguồn") appendSource(p, line);
      else if (/^• /.test(line) && SOURCE_LINK.test(line.slice(2))) {
        // an answer from several documents lists its sources as "• <document> (<address>)"
        p.appendChild(document.createTextNode("• "));
        appendSource(p, line.slice(2));
      } else appendLinkified(p, line);
      bubble.appendChild(p);
    });
  }

  function messageNode(msg, isLast) {
    var item = el("div", { className: "cchc-msg cchc-from-" + msg.from, "data-id": String(msg.id) });
    var bubble = el("div", { className: "cchc-bubble" });
    bubble.appendChild(el("span", { className: "cchc-sr", text: msg.from === "user" ? T.you : T.bot }));
    renderBody(bubble, msg.text || "");
    item.appendChild(bubble);
    if (msg.from === "bot" && msg.buttons && msg.buttons.length && !msg.buttonsUsed && isLast) {
      var group = el("div", { className: "cchc-quick", role: "group" });
      msg.buttons.forEach(function (b) {
        var btn = el("button", { type: "button", className: "cchc-chip", text: b.title });
        btn.addEventListener("click", function () {
          msg.buttonsUsed = true;
          send(b.payload, b.title);
          input.focus();
        });
        group.appendChild(btn);
      });
      item.appendChild(group);
    }
    if (msg.rateable) {
      if (msg.feedback) {
        item.appendChild(el("p", { className: "cchc-rated", text: T.rated }));
      } else if (msg === lastRateable()) {
        var rate = el("div", { className: "cchc-feedback", role: "group", "aria-label": T.rateGroup });
        [["up", T.helpful, "/feedback_positive"], ["down", T.unhelpful, "/feedback_negative"]]
          .forEach(function (spec) {
            var btn = el("button", { type: "button", className: "cchc-rate cchc-rate-" + spec[0],
              text: spec[1] });
            btn.addEventListener("click", function () {
              msg.feedback = spec[0];
              send(spec[2], null);
              rerender();
              input.focus();
            });
            rate.appendChild(btn);
          });
        item.appendChild(rate);
      }
    }
    return item;
  }

  function rerender() {
    while (log.firstChild) log.removeChild(log.firstChild);
    state.messages.forEach(function (msg, i) {
      log.appendChild(messageNode(msg, i === state.messages.length - 1));
    });
    log.scrollTop = log.scrollHeight;
    saveState();
  }

  function add(from, text, buttons, rateable) {
    state.seq = (state.seq || 0) + 1;
    var msg = { id: state.seq, from: from, text: String(text || ""), buttons: buttons || [],
      buttonsUsed: false, feedback: null,
      rateable: from === "bot" && (!!rateable || isAnswer(String(text || ""))) };
    state.messages.push(msg);
    rerender();
    return msg;
  }

  // ---- panel ---------------------------------------------------------------------------------
  function open() {
    panel.hidden = false;
    container.classList.add("cchc-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    if (!state.messages.length) {
      add("bot", T.welcome, T.suggestions.map(function (q) { return { title: q, payload: q }; }));
    } else {
      rerender();
    }
    connect();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    container.classList.remove("cchc-open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); }
  });
  restartBtn.addEventListener("click", function () {
    state = { sessionId: newId(), messages: [], open: true, seq: 0 };
    confirmed = false;
    if (socket && socket.connected) socket.emit("session_request", { session_id: state.sessionId });
    add("bot", T.welcome, T.suggestions.map(function (q) { return { title: q, payload: q }; }));
    input.focus();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });

  // ---- transport: Socket.IO first, REST when it cannot connect -------------------------------
  var socket = null;
  var confirmed = false;
  var socketFailed = !USE_SOCKET;
  var connecting = null;
  var waiting = 0;
  var replyTimer = null;

  var transportNote = "";
  function setTransport(name) {
    container.setAttribute("data-transport", name);
    transportNote = name === "rest" ? T.fallback : "";
    status.textContent = transportNote;
  }
  // at the limit (typed or pasted and cut by maxlength), say why nothing more goes in
  input.addEventListener("input", function () {
    status.textContent = input.value.length >= MAX_CHARS ? T.maxChars : transportNote;
  });

  function showTyping(on) {
    typing.hidden = !on;
    if (on) log.scrollTop = log.scrollHeight;
  }

  function expectReply() {
    waiting += 1;
    showTyping(true);
    clearTimeout(replyTimer);
    replyTimer = setTimeout(function () {
      if (waiting > 0) { waiting = 0; showTyping(false); add("system", T.noReply); }
    }, REPLY_TIMEOUT_MS);
  }

  function gotReply() {
    waiting = 0;
    clearTimeout(replyTimer);
    showTyping(false);
  }

  function loadClient() {
    if (window.io) return Promise.resolve(window.io);
    return new Promise(function (resolve, reject) {
      var tag = el("script", { src: BASE + "vendor/socket.io.min.js", async: "" });
      tag.addEventListener("load", function () {
        if (window.io) resolve(window.io); else reject(new Error("no io"));
      });
      tag.addEventListener("error", function () { reject(new Error("socket.io client not loaded")); });
      document.head.appendChild(tag);
    });
  }

  /** Resolves once the socket is usable or known to be unusable (then REST is used). */
  function connect() {
    if (connecting) return connecting;
    if (!USE_SOCKET) { setTransport("rest"); connecting = Promise.resolve(); return connecting; }
    connecting = new Promise(function (resolve) {
      var done = function () { resolve(); };
      setTimeout(function () { if (!confirmed) { socketFailed = true; setTransport("rest"); } done(); },
        CONNECT_WAIT_MS);
      loadClient().then(function (io) {
        // session_id in the handshake query: a load balancer in front of several Rasa
        // processes keeps every request of this connection on one of them (deploy/README.md).
        // WebSocket only: one connection stays with the Rasa worker that accepted it, whereas
        // long-polling requests may each reach another worker (make run starts one per core);
        // where a WebSocket cannot be opened the widget talks REST instead.
        socket = io(RASA_URL, { path: "/socket.io", transports: ["websocket"],
          reconnectionDelayMax: 10000, timeout: CONNECT_WAIT_MS,
          query: { session_id: state.sessionId } });
        socket.on("connect", function () {
          socket.emit("session_request", { session_id: state.sessionId });
        });
        socket.on("session_confirm", function (data) {
          var id = typeof data === "string" ? data : data && data.session_id;
          if (id && id !== state.sessionId) { state.sessionId = id; saveState(); }
          confirmed = true;
          socketFailed = false;
          setTransport("socket");
          done();
        });
        socket.on("connect_error", function () {
          confirmed = false;
          socketFailed = true;
          setTransport("rest");
          done();
        });
        socket.on("disconnect", function () { confirmed = false; setTransport("rest"); });
        socket.on("bot_uttered", function (data) { receive(data); });
      }).catch(function () { socketFailed = true; setTransport("rest"); done(); });
    });
    return connecting;
  }

  function receive(data) {
    if (!data || typeof data !== "object") return;
    gotReply();
    var buttons = (data.quick_replies || data.buttons || []).filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
    // rating buttons sent by the bot become the widget's own feedback row (not quick replies)
    var rating = buttons.filter(function (b) { return FEEDBACK.test(b.payload); });
    buttons = buttons.filter(function (b) { return !FEEDBACK.test(b.payload); });
    var text = typeof data.text === "string" ? data.text : "";
    var attachment = data.attachment || (data.image ? { payload: { src: data.image } } : null);
    var src = attachment && attachment.payload && attachment.payload.src;
    if (typeof src === "string" && /^https?:\/\//.test(src)) text = (text ? text + "\n" : "") + src;
    if (text || buttons.length) add("bot", text, buttons, rating.length > 0);
  }

  function sendRest(message) {
    return window.fetch(RASA_URL + "/webhooks/rest/webhook", {
      method: "POST",
      // X-Conversation-Id lets a load balancer keep a conversation on one Rasa process
      headers: { "Content-Type": "application/json", "X-Conversation-Id": state.sessionId },
      body: JSON.stringify({ sender: state.sessionId, message: message })
    }).then(function (resp) {
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.json();
    }).then(function (replies) {
      gotReply();
      (Array.isArray(replies) ? replies : []).forEach(receive);
    }).catch(function () {
      gotReply();
      add("system", T.offline);
    });
  }

  /** Send `message` (text or a /payload); show `shown` as the user's bubble unless null. */
  function send(message, shown) {
    var quiet = shown === null || shown === undefined; // feedback: no bubble, no typing dots
    if (!quiet) { add("user", shown); expectReply(); } else { saveState(); }
    connect().then(function () {
      if (socket && socket.connected && confirmed) {
        socket.emit("user_uttered", { message: message, session_id: state.sessionId });
      } else {
        sendRest(message);
      }
    });
  }

  // ---- start ---------------------------------------------------------------------------------
  function mount() {
    document.body.appendChild(host);
    if (state.open) {
      panel.hidden = false;
      container.classList.add("cchc-open");
      launcher.setAttribute("aria-expanded", "true");
      rerender();
      connect();
    }
  }

  window.CCHCWidget = { open: open, close: close, version: "1.0" };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
