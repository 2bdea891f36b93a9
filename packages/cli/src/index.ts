export { bearerToken, type Endpoints, loadEndpoints, serviceUrl, UsageError } from './context';
export { ApiError, callApi, describeApiError } from './http';
export { type Progress, progressBar } from './progress';
