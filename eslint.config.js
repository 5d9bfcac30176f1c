import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** electron/ reaches the gate only through its façade (docs/ARCHITECTURE.md). */
const SERVER_BUT_DESKTOP_CONTRACT = {
  regex: '(^|/)server/(?!contract/desktop\\.js$)',
  message: 'electron/ imports from server/ only server/contract/desktop.ts: add what it needs there.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-output/**', '**/*.tmp.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['server/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'server/ is pure Node: Electron belongs in electron/.' }],
          patterns: [
            {
              regex: '(^|/)(electron|renderer)/',
              message: 'server/ serves the other processes and imports nothing of them (docs/ARCHITECTURE.md).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/**'],
    ignores: ['electron/ipc/mainIpc.ts', 'electron/ipc/rendererIpc.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              importNames: ['ipcMain', 'ipcRenderer'],
              message: 'Use the typed IPC in electron/ipc/ (mainIpc.ts, rendererIpc.ts).',
            },
          ],
          patterns: [SERVER_BUT_DESKTOP_CONTRACT],
        },
      ],
    },
  },
  {
    files: ['electron/ipc/mainIpc.ts', 'electron/ipc/rendererIpc.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SERVER_BUT_DESKTOP_CONTRACT] }] },
  },
  {
    files: ['renderer/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)server/(?!contract/api\\.js$)',
              message: "The renderer takes the gate's types from server/contract/api.ts only.",
            },
            {
              regex: '(^|/)server/contract/api\\.js$',
              allowTypeImports: true,
              message: 'The renderer talks to the gate over HTTP; import types only.',
            },
            { regex: '(^|/)electron/', message: 'The renderer runs in the browser; electron/ is another process.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  }
);
