export {
  type AccountMedium,
  type AccountProblem,
  type AccountResult,
  accountMediums,
  type BankCode,
  bankCodes,
  banks,
  cardDigitsMax,
  cardDigitsMin,
  luhnCheckDigit,
  luhnValid,
  normalizeAccountNumber,
  passbookDigitsMax,
  passbookDigitsMin,
  validateBankAccount,
} from './bank-account';
export {
  generateDataKey,
  householdKeyring,
  isDataKeyId,
  type NewDataKey,
  type UnwrapResult,
  unwrapDataKey,
  wrapDataKey,
  wrappedDataKeyBytes,
} from './data-keys';
export {
  type DecryptResult,
  decryptField,
  type EncryptedField,
  encryptField,
  fieldCharsMax,
  hashHexLength,
  hmacField,
  ivBytes,
  type KeyDestroyed,
  type PiiKind,
  piiKinds,
  reencryptField,
  tagBytes,
} from './field-crypto';
export * from './households/index';
export {
  type IdNumberParts,
  type IdNumberProblem,
  type IdNumberResult,
  type IdValidationOptions,
  idBirthYearMin,
  idCheckCharacter,
  idNumberLength,
  isCalendarDate,
  normalizeIdNumber,
  provinceCodes,
  validateIdNumber,
} from './id-number';
export {
  aesKeyBytes,
  dataKeyIdPrefix,
  hmacKeyBytesMin,
  type Keyring,
  type KeyringConfig,
  KeyringConfigError,
  parseKeyring,
  withoutKeys,
} from './keyring';
export {
  type Audience,
  currentMaskingPolicy,
  hiddenMark,
  type MaskingPolicy,
  maskingPolicyV1,
} from './masking';
export { normalizePhone, type PhoneProblem, type PhoneResult, validatePhone } from './phone';
export {
  accountNumberHash,
  idNumberHash,
  type SealedField,
  sealAccountNumber,
  sealHealth,
  sealIdNumber,
  sealName,
  sealPhone,
} from './protect';
