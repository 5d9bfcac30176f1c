/**
 * A partial `electron` module for main-process tests (the binary is never needed). Each test file
 * installs it with
 *
 *   vi.mock('electron', async () => (await import('./electronMock.js')).electronModule);
 *
 * and imports the fakes from here to drive and inspect them. As in Comfy-Org/desktop's setup,
 * `app.quit()` and `app.exit()` throw, so a test stops exactly where the app would have quit.
 * Each fake is checked against Electron's own types for the members it provides.
 */
import { EventEmitter } from 'node:events';
import type {
  App,
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Clipboard,
  ContextBridge,
  Cookies,
  CookiesSetDetails,
  Dialog,
  IpcMain,
  IpcRenderer,
  Menu as ElectronMenu,
  MenuItemConstructorOptions,
  MessageBoxOptions,
  MessageBoxReturnValue,
  NativeImage,
  NotificationConstructorOptions,
  Shell,
  Tray,
  WebContents,
} from 'electron';
import { vi } from 'vitest';

/** Where a test stopped because the app would have quit. */
export class AppQuit extends Error {
  constructor(
    readonly how: 'quit' | 'exit',
    readonly exitCode?: number
  ) {
    super(how === 'quit' ? 'app.quit()' : `app.exit(${exitCode})`);
  }
}

/** A fake that provides some of `T`'s methods, each with `T`'s signature. */
type PartialFake<T> = { [K in keyof T]?: T[K] extends (...args: infer A) => infer R ? (...args: A) => R : T[K] };

// ---- app ----------------------------------------------------------------------------------

const appPaths = new Map<string, string>();

const appMethods = {
  quit: vi.fn((): void => {
    throw new AppQuit('quit');
  }),
  exit: vi.fn((exitCode?: number): void => {
    throw new AppQuit('exit', exitCode);
  }),
  whenReady: vi.fn(() => Promise.resolve()),
  getPath: vi.fn((name: Parameters<App['getPath']>[0]): string => appPaths.get(name) ?? `/nonexistent/${name}`),
  setPath: vi.fn((name: string, path: string): void => {
    appPaths.set(name, path);
  }),
  requestSingleInstanceLock: vi.fn((): boolean => true),
  focus: vi.fn(),
  setAppUserModelId: vi.fn(),
  getLoginItemSettings: vi.fn(
    () => ({ openAtLogin: false, wasOpenedAtLogin: false }) as ReturnType<App['getLoginItemSettings']>
  ),
  setLoginItemSettings: vi.fn(),
} satisfies PartialFake<App>;

export const app = Object.assign(new EventEmitter(), appMethods, {
  isPackaged: false,
  dock: { hide: vi.fn() },
});

/** The fake app where code wants Electron's `App` (its typed `on` overloads are EventEmitter's `on` here). */
export const electronApp = app as unknown as App;

// ---- windows ------------------------------------------------------------------------------

/** A DOM-ish event with preventDefault, as Electron passes to 'close', 'will-navigate'… */
export function fakeEvent<T extends object>(
  fields: T = {} as T
): T & { preventDefault(): void; defaultPrevented: boolean } {
  const event = {
    ...fields,
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

export class FakeWebContents extends EventEmitter {
  url = '';
  destroyed = false;
  openHandler: Parameters<WebContents['setWindowOpenHandler']>[0] | undefined;
  readonly fake = {
    getURL: vi.fn(() => this.url),
    send: vi.fn(),
    isDestroyed: vi.fn(() => this.destroyed),
    setWindowOpenHandler: vi.fn((handler: Parameters<WebContents['setWindowOpenHandler']>[0]) => {
      this.openHandler = handler;
    }),
  } satisfies PartialFake<WebContents>;
  getURL = this.fake.getURL;
  send = this.fake.send;
  isDestroyed = this.fake.isDestroyed;
  setWindowOpenHandler = this.fake.setWindowOpenHandler;

  /** What happens when a page navigates itself (a link, a form): was it stopped? */
  navigate(url: string): boolean {
    const details = fakeEvent({ url });
    this.emit('will-navigate', details);
    if (!details.defaultPrevented) this.url = url;
    return !details.defaultPrevented;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static instances: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  destroyed = false;
  readonly fake = {
    loadURL: vi.fn((url: string): Promise<void> => {
      this.webContents.url = url;
      return Promise.resolve();
    }),
    show: vi.fn((): void => {
      this.visible = true;
    }),
    hide: vi.fn((): void => {
      this.visible = false;
    }),
    focus: vi.fn(),
    isMinimized: vi.fn(() => false),
    restore: vi.fn(),
    isDestroyed: vi.fn(() => this.destroyed),
    /** Like the window's close button: 'close' may be prevented, else the window is gone. */
    close: vi.fn((): void => {
      const event = fakeEvent();
      this.emit('close', event);
      if (event.defaultPrevented) return;
      this.destroyed = true;
      this.visible = false;
      this.emit('closed');
    }),
  } satisfies PartialFake<BrowserWindow>;
  loadURL = this.fake.loadURL;
  show = this.fake.show;
  hide = this.fake.hide;
  focus = this.fake.focus;
  isMinimized = this.fake.isMinimized;
  restore = this.fake.restore;
  isDestroyed = this.fake.isDestroyed;
  close = this.fake.close;

  constructor(readonly options: BrowserWindowConstructorOptions = {}) {
    super();
    FakeBrowserWindow.instances.push(this);
  }
}

// ---- tray, menu, images, notifications ---------------------------------------------------

/** What Menu.buildFromTemplate returns here: the template, to assert on. */
export interface FakeMenu {
  template: MenuItemConstructorOptions[];
}

export class FakeTray extends EventEmitter {
  static instances: FakeTray[] = [];
  image: unknown;
  tooltip = '';
  menu: FakeMenu | undefined;
  destroyed = false;
  readonly fake = {
    setImage: vi.fn((image: NativeImage | string): void => {
      this.image = image;
    }),
    setToolTip: vi.fn((tooltip: string): void => {
      this.tooltip = tooltip;
    }),
    setContextMenu: vi.fn((menu: ElectronMenu | null): void => {
      this.menu = menu as unknown as FakeMenu;
    }),
    isDestroyed: vi.fn(() => this.destroyed),
    destroy: vi.fn((): void => {
      this.destroyed = true;
    }),
  } satisfies PartialFake<Tray>;
  setImage = this.fake.setImage;
  setToolTip = this.fake.setToolTip;
  setContextMenu = this.fake.setContextMenu;
  isDestroyed = this.fake.isDestroyed;
  destroy = this.fake.destroy;

  constructor(image: unknown) {
    super();
    this.image = image;
    FakeTray.instances.push(this);
  }
}

export const FakeMenuApi = {
  buildFromTemplate: vi.fn((template: MenuItemConstructorOptions[]): FakeMenu => ({ template })),
};

/** A nativeImage here is just the path it was loaded from. */
export const nativeImage = {
  createFromPath: vi.fn((path: string) => ({ path }) as unknown as NativeImage),
};

export class FakeNotification extends EventEmitter {
  static instances: FakeNotification[] = [];
  static isSupported = vi.fn(() => true);
  show = vi.fn();
  constructor(readonly options: NotificationConstructorOptions) {
    super();
    FakeNotification.instances.push(this);
  }
}

// ---- session, dialogs, clipboard, shell ---------------------------------------------------

export const cookieJar = {
  set: vi.fn((_details: CookiesSetDetails): Promise<void> => Promise.resolve()),
} satisfies PartialFake<Cookies>;

export const session = {
  fromPartition: vi.fn((_partition: string) => ({ cookies: cookieJar })),
};

export const dialog = Object.assign(
  {
    showMessageBox: vi.fn((_options: MessageBoxOptions): Promise<MessageBoxReturnValue> =>
      Promise.resolve({ response: 1, checkboxChecked: false })
    ),
    showErrorBox: vi.fn((_title: string, _content: string): void => undefined),
  } satisfies PartialFake<Dialog>,
  {
    /** The window-modal form (ComfyUI's "leave with unsaved changes?"); 1 = stay. */
    showMessageBoxSync: vi.fn((_window: unknown, _options: MessageBoxOptions): number => 1),
  }
);

export const clipboard = { writeText: vi.fn() } satisfies PartialFake<Clipboard>;
export const shell = { openExternal: vi.fn(() => Promise.resolve()) } satisfies PartialFake<Shell>;

// ---- IPC ----------------------------------------------------------------------------------

type InvokeListener = Parameters<IpcMain['handle']>[1];
export const ipcHandlers = new Map<string, InvokeListener>();

export const ipcMain = {
  handle: vi.fn((channel: string, listener: InvokeListener): void => {
    ipcHandlers.set(channel, listener);
  }),
  removeHandler: vi.fn((channel: string): void => {
    ipcHandlers.delete(channel);
  }),
} satisfies PartialFake<IpcMain>;

/** Calls a registered handler as a frame at `frameUrl` would. */
export function invokeAs(frameUrl: string, channel: string, ...args: unknown[]): Promise<unknown> {
  const listener = ipcHandlers.get(channel);
  if (!listener) throw new Error(`no handler for ${channel}`);
  const event = { senderFrame: { url: frameUrl } } as Parameters<InvokeListener>[0];
  return Promise.resolve().then(() => listener(event, ...args) as unknown);
}

export const ipcRenderer = Object.assign(new EventEmitter(), {
  invoke: vi.fn((_channel: string, ..._args: unknown[]): Promise<unknown> => Promise.resolve(undefined)),
}) satisfies PartialFake<Pick<IpcRenderer, 'invoke'>>;

export const contextBridge = {
  exposeInMainWorld: vi.fn((_key: string, _api: unknown): void => undefined),
} satisfies PartialFake<ContextBridge>;

// ---- the module ---------------------------------------------------------------------------

export const electronModule = {
  app,
  BrowserWindow: FakeBrowserWindow,
  Tray: FakeTray,
  Menu: FakeMenuApi,
  nativeImage,
  Notification: FakeNotification,
  session,
  dialog,
  clipboard,
  shell,
  ipcMain,
  ipcRenderer,
  contextBridge,
};

/** Fresh fakes for the next test: calls forgotten, every vi.fn(impl) back to its impl. */
export function resetElectronMock(): void {
  vi.resetAllMocks();
  app.removeAllListeners();
  app.isPackaged = false;
  appPaths.clear();
  FakeBrowserWindow.instances = [];
  FakeTray.instances = [];
  FakeNotification.instances = [];
  ipcHandlers.clear();
  ipcRenderer.removeAllListeners();
}

/** The one window whose options match, e.g. the dashboard (it has a preload). */
export function windowsWith(predicate: (w: FakeBrowserWindow) => boolean): FakeBrowserWindow[] {
  return FakeBrowserWindow.instances.filter(predicate);
}
