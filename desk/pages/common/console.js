// The management console's shell, shared by its pages (监控大屏, 统计报表, 录音质检, 热点播报, 坐席管理, 拨号计划, 知识库):
// checks the session (to sign-in when there is none), draws the top bar with the pages this role may open,
// the person and 退出登录, and mounts the page under it with Element Plus in Chinese.
// A page calls `startConsole(Page, "wallboard")`; the page's setup() gets the signed-in user with inject("me").
import { createApp, h } from "vue";
import ElementPlus from "element-plus";
import zhCn from "element-plus/zh-cn";
import { goSignIn, session, signOut } from "/common/api.js";

export const ROLE_TEXT = { agent: "坐席", supervisor: "班长", engineer: "工程师", auditor: "审计", admin: "管理员",
                           editor: "知识编辑" };

// Every page of the console, in menu order, with the roles that may open it (the API checks again).
export const CONSOLE_PAGES = [
  { key: "wallboard", path: "/wallboard/", title: "实时监控", roles: ["supervisor", "auditor", "admin"] },
  { key: "reports", path: "/reports/", title: "统计报表", roles: ["supervisor", "auditor", "admin"] },
  { key: "quality", path: "/quality/", title: "录音质检", roles: ["agent", "supervisor", "auditor", "admin"] },
  { key: "announcements", path: "/announcements/", title: "热点播报", roles: ["supervisor", "admin"] },
  { key: "agents", path: "/agents/", title: "坐席管理", roles: ["supervisor", "engineer", "auditor", "admin"] },
  { key: "engineer", path: "/engineer/", title: "拨号计划", roles: ["engineer", "admin"] },
  { key: "knowledge", path: "/knowledge/", title: "知识库", roles: ["editor", "supervisor", "auditor", "admin"] },
  { key: "desk", path: "/desk/", title: "坐席工作台", roles: ["agent"] },
];

// Where a person lands after signing in when no page asked for them.
export function homeOf(role) {
  return { agent: "/desk/", engineer: "/engineer/", editor: "/knowledge/" }[role] || "/wallboard/";
}

const ConsoleBar = {
  props: { user: Object, active: String },
  setup(props) {
    const pages = CONSOLE_PAGES.filter((p) => p.roles.includes(props.user.role));
    return () => h("header", { class: "hl-console-bar" }, [
      h("div", { class: "hl-brand" }, [h("span", { class: "hl-emblem" }, "12345"), h("span", "管理控制台")]),
      h("nav", { class: "hl-console-nav" }, pages.map((p) => h("a", {
        href: p.path, class: p.key === props.active ? "active" : "", "data-test": `nav-${p.key}`,
      }, p.title))),
      h("div", { class: "hl-console-me" }, [
        h("span", { "data-test": "me" }, `${props.user.name || props.user.username}（${ROLE_TEXT[props.user.role] || props.user.role}` +
          `${props.user.team ? " · " + props.user.team : ""}）`),
        h("a", { href: "#", "data-test": "sign-out", onClick: (e) => { e.preventDefault(); signOut(); } }, "退出登录"),
      ]),
    ]);
  },
};

// Signs in (or sends to sign-in), then mounts `Page` under the console bar in #app; resolves to the app.
export async function startConsole(Page, active, { components = {} } = {}) {
  const me = await session();
  if (!me || me.must_change_password) return goSignIn();
  const Shell = {
    render: () => h("div", { class: "hl-console" }, [
      h(ConsoleBar, { user: me.user, active }),
      h("main", { class: "hl-console-main" }, [h(Page)]),
    ]),
  };
  const app = createApp(Shell).use(ElementPlus, { locale: zhCn }).provide("me", me.user);
  for (const [name, component] of Object.entries(components)) app.component(name, component);
  app.mount("#app");
  return app;
}
