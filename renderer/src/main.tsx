import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import './styles/app.css';

// /gate/me is the teammate page's own address; inside, the dashboard routes by hash.
if (/\/gate\/me\/?$/.test(window.location.pathname)) {
  window.history.replaceState(null, '', `/gate/#/me`);
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>
  );
}
