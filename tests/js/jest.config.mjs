// Jest config for the SDK tests: native ESM (run with --experimental-vm-modules), no transforms.
export default {
  rootDir: '../..',
  testMatch: ['<rootDir>/tests/js/**/*.test.mjs'],
  testEnvironment: 'node',
  transform: {},
  globalSetup: '<rootDir>/tests/js/global-setup.mjs',
  testTimeout: 600000,
  maxWorkers: 2,
};
